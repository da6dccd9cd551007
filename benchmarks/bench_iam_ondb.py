"""IAM-OnDB: how fast strokes become line images, and what drawing training lines afresh every
epoch costs the training of LineModelCtc + line_lstm_ctc.

1. Rendering: lines per second of ``render_strokes`` (one thread, the training styles, the default
   height), over the first ``--render-lines`` lines.
2. Training throughput with training lines drawn afresh every epoch (``FreshSplit``) versus drawn
   once (``FixedSplit``): same process, same ``--samples`` training lines, same network
   (identical initial weights), batch size and threads, a validation split of one batch.
   Rounds alternate; the median ratio fresh/cached of lines per second is reported.

    TEXTREC_DATA_MIRROR=../shared/mirror python benchmarks/bench_iam_ondb.py
"""

from __future__ import annotations

import argparse
import copy
import statistics
import time

import numpy as np
import torch

from textrec_core.config import TrainArgs
from textrec_core.plugins import components
from textrec_iam_ondb.rendering import random_style, render_strokes
from textrec_iam_ondb.splits import FixedSplit, FreshSplit


def rendering_rate(lines, count: int, height: int, max_width: int) -> float:
    rng = np.random.default_rng(0)
    start = time.perf_counter()
    for i in range(count):
        render_strokes(lines.strokes(i), height, max_width, random_style(rng), rng)
    return count / (time.perf_counter() - start)


def samples_per_second(model_cls, dataset, network, batch_size: int) -> float:
    model = model_cls(dataset, network)
    start = time.perf_counter()
    model.fit(TrainArgs(batch_size=batch_size, epochs=1, patience=0), progress=False)
    return len(dataset.train) / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--height", type=int, default=64)
    parser.add_argument("--max-width", type=int, default=1024)
    parser.add_argument("--render-lines", type=int, default=2000)
    parser.add_argument("--samples", type=int, default=1024, help="training lines per epoch")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    table = components()
    dataset = table.get("dataset", "iam_ondb")(height=args.height, max_width=args.max_width)
    dataset.prepare()
    lines = dataset.train.lines
    torch.set_num_threads(1)
    rate = rendering_rate(lines, min(args.render_lines, len(lines)), args.height, args.max_width)
    print(f"rendering: {rate:.0f} lines/s (1 thread, height {args.height}, training styles)")

    torch.set_num_threads(args.threads)
    chosen = np.arange(args.samples)
    train_lines, labels = lines.subset(chosen), dataset.train.labels[chosen]
    splits = {fresh: kind(train_lines, labels, args.height, args.max_width)
              for fresh, kind in ((True, FreshSplit), (False, FixedSplit))}
    val = dataset.val
    small_val = FixedSplit(val.lines.subset(np.arange(args.batch_size)), val.labels[: args.batch_size],
                           args.height, args.max_width)
    dataset.splits["val"] = small_val
    torch.manual_seed(0)
    initial = table.get("network", "line_lstm_ctc")(dataset.shapes)
    model_cls = table.get("model", "LineModelCtc")
    rates: dict[bool, list[float]] = {True: [], False: []}
    for _ in range(args.rounds):
        for fresh in (False, True):
            dataset.splits["train"] = splits[fresh]
            rates[fresh].append(samples_per_second(model_cls, dataset, copy.deepcopy(initial), args.batch_size))
    ratios = [f / c for f, c in zip(rates[True], rates[False])]
    print(f"training: {args.samples} lines/epoch, batch {args.batch_size}, {torch.get_num_threads()} threads, "
          f"height {args.height}")
    print(f"cached {statistics.median(rates[False]):7.1f} lines/s  fresh {statistics.median(rates[True]):7.1f} "
          f"lines/s  ratio {statistics.median(ratios):.3f}  (rounds: {', '.join(f'{r:.3f}' for r in ratios)})")


if __name__ == "__main__":
    main()
