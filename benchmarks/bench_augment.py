"""What an augmentation pipeline costs the training of LineModelCtc + line_lstm_ctc on IAM-OnDB.

Training throughput (lines per second of one epoch) with the pipeline of an experiment config
(default: docs/configs/iam-ondb-augmented.json) versus without augmenters, each with the batches
prepared on the training thread (``prefetch`` 0) and in a background thread (``prefetch`` 2):
same process, same ``--samples`` training lines drawn afresh as in training, same network
(identical initial weights), batch size and threads, a validation split of one batch. Rounds
alternate; the median ratio to the baseline (no augmenters, prefetch 0) is reported.

    TEXTREC_DATA_MIRROR=../shared/mirror python benchmarks/bench_augment.py
"""

from __future__ import annotations

import argparse
import copy
import statistics
import time
from pathlib import Path

import numpy as np
import torch

from textrec_core.config import TrainArgs
from textrec_core.experiment import check_experiment
from textrec_iam_ondb.splits import FixedSplit, FreshSplit

CONFIG = Path(__file__).resolve().parent.parent / "docs" / "configs" / "iam-ondb-augmented.json"


def samples_per_second(built, network, batch_size: int, prefetch: int, augmenters) -> float:
    model = type(built.model)(built.dataset, network)
    start = time.perf_counter()
    model.fit(TrainArgs(batch_size=batch_size, epochs=1, patience=0, prefetch=prefetch), progress=False,
              augmenters=augmenters)
    return len(built.dataset.train) / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", default=str(CONFIG), help="the experiment config whose augmenters are measured")
    parser.add_argument("--samples", type=int, default=1024, help="training lines per epoch")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    built = check_experiment(args.config)
    dataset = built.dataset
    dataset.prepare()
    height, max_width = dataset.shapes.input_shape
    chosen = np.arange(args.samples)
    dataset.splits["train"] = FreshSplit(dataset.train.lines.subset(chosen), dataset.train.labels[chosen],
                                         height, max_width)
    val = dataset.val
    dataset.splits["val"] = FixedSplit(val.lines.subset(np.arange(args.batch_size)), val.labels[: args.batch_size],
                                       height, max_width)
    torch.manual_seed(0)
    initial = copy.deepcopy(built.model.network)
    variants = {(False, 0): (), (True, 0): built.augmenters, (False, 2): (), (True, 2): built.augmenters}
    rates: dict[tuple[bool, int], list[float]] = {variant: [] for variant in variants}
    for _ in range(args.rounds):
        for (augmented, prefetch), augmenters in variants.items():
            rates[augmented, prefetch].append(
                samples_per_second(built, copy.deepcopy(initial), args.batch_size, prefetch, augmenters))
    names = ", ".join(spec.name for spec in built.resolved.config.augmenters)
    print(f"{args.samples} lines/epoch, batch {args.batch_size}, {torch.get_num_threads()} threads; pipeline: {names}")
    baseline = rates[False, 0]
    for (augmented, prefetch), measured in rates.items():
        ratios = [m / b for m, b in zip(measured, baseline)]
        print(f"{'pipeline' if augmented else 'no augmenters':>13}, prefetch {prefetch}: "
              f"{statistics.median(measured):6.1f} lines/s  ratio {statistics.median(ratios):.3f}  "
              f"(rounds: {', '.join(f'{r:.3f}' for r in ratios)})")


if __name__ == "__main__":
    main()
