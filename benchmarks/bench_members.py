"""How to share the CPU between ensemble members: one at a time with all cores, or several at once.

Trains ``--members`` members of one config with ``textrec-ensemble-train``'s machinery
(:func:`textrec_ensembler.members.train_members`: a ``textrec-run`` subprocess per member) once per
``--parallel`` value, each member given ``cores // parallel`` torch threads, and reports the wall
time of training them all, as a ratio to the first value (the baseline). Rounds alternate; the
median is reported. The default config is LineModelCtc + line_lstm_ctc on synthetic EMNIST lines
(offline: synthetic characters, built-in text), one epoch of 2,048 lines.

    python benchmarks/bench_members.py --parallel 1,2 --rounds 3
"""

from __future__ import annotations

import argparse
import json
import logging
import statistics
import tempfile
import time
from pathlib import Path

from textrec_ensembler.members import train_members

CONFIG = {"dataset": "EmnistLinesDataset", "model": "LineModelCtc", "network": "line_lstm_ctc",
          "dataset_args": {"char_source": "synthetic", "text_source": "builtin", "num_train": 2048, "num_val": 128,
                           "num_test": 128},
          "train_args": {"epochs": 1, "batch_size": 64}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", default=json.dumps(CONFIG), help="the members' experiment config (JSON)")
    parser.add_argument("--members", type=int, default=2)
    parser.add_argument("--parallel", default="1,2", help="comma-separated members at once; the first is the baseline")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    choices = [int(part) for part in args.parallel.split(",")]
    seconds: dict[int, list[float]] = {parallel: [] for parallel in choices}
    for round_number in range(args.rounds):
        for parallel in choices if round_number % 2 == 0 else choices[::-1]:
            with tempfile.TemporaryDirectory() as folder:
                start = time.perf_counter()
                train_members(args.config, Path(folder), args.members, parallel=parallel, use_wandb=False,
                              progress=False)
                seconds[parallel].append(time.perf_counter() - start)
            print(f"round {round_number + 1}: {parallel} at once: {seconds[parallel][-1]:.1f} s", flush=True)
    base = statistics.median(seconds[choices[0]])
    for parallel in choices:
        median = statistics.median(seconds[parallel])
        print(f"{args.members} members, {parallel} at once: median {median:.1f} s, "
              f"throughput ratio {base / median:.3f}")


if __name__ == "__main__":
    main()
