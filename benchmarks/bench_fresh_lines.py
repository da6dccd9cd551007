"""Training throughput with lines generated fresh every epoch versus lines generated once, cached.

Same process, same network (``line_cnn_all_conv``, identical initial weights), same batch size
and threads; only the training split differs: ``EmnistLinesDataset(fresh_train_lines=True)``
draws new lines as batches are requested, ``fresh_train_lines=False`` serves a cached array.
Rounds alternate and the median ratio of samples per second is reported.

    python benchmarks/bench_fresh_lines.py                       # glyphs: real EMNIST via TEXTREC_DATA_MIRROR
    python benchmarks/bench_fresh_lines.py --char-source synthetic --text-source builtin
"""

from __future__ import annotations

import argparse
import copy
import statistics
import time

import torch

from textrec_core.config import TrainArgs
from textrec_core.plugins import components


def samples_per_second(model_cls, dataset, network, batch_size: int) -> float:
    model = model_cls(dataset, network)
    start = time.perf_counter()
    model.fit(TrainArgs(batch_size=batch_size, epochs=1, patience=0), progress=False)
    return len(dataset.train) / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--char-source", default="emnist")
    parser.add_argument("--text-source", default="brown")
    parser.add_argument("--max-length", type=int, default=34)
    parser.add_argument("--samples", type=int, default=4096, help="training lines per epoch")
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    table = components()
    datasets = {}
    for fresh in (True, False):
        datasets[fresh] = table.get("dataset", "EmnistLinesDataset")(
            max_length=args.max_length, num_train=args.samples, num_val=args.batch_size, num_test=args.batch_size,
            char_source=args.char_source, text_source=args.text_source, fresh_train_lines=fresh)
        datasets[fresh].prepare()
    torch.manual_seed(0)
    initial = table.get("network", "line_cnn_all_conv")(datasets[True].shapes)
    model_cls = table.get("model", "LineModel")
    fresh_rates, cached_rates = [], []
    for _ in range(args.rounds):
        cached_rates.append(samples_per_second(model_cls, datasets[False], copy.deepcopy(initial), args.batch_size))
        fresh_rates.append(samples_per_second(model_cls, datasets[True], copy.deepcopy(initial), args.batch_size))
    ratios = [f / c for f, c in zip(fresh_rates, cached_rates)]
    print(f"{args.samples} lines/epoch, max_length {args.max_length}, batch {args.batch_size}, "
          f"{torch.get_num_threads()} threads, glyphs from {args.char_source}, text from {args.text_source}")
    cached, fresh = statistics.median(cached_rates), statistics.median(fresh_rates)
    print(f"cached {cached:7.1f} lines/s  fresh {fresh:7.1f} lines/s  "
          f"ratio {statistics.median(ratios):.3f}  (rounds: {', '.join(f'{r:.3f}' for r in ratios)})")


if __name__ == "__main__":
    main()
