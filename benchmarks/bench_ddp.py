"""Multi-process training on one machine: ``textrec-run --nproc 2`` against one process, same cores.

Trains one config (LineModelCtc + line_lstm_ctc on synthetic EMNIST lines, offline, by default)
as one process with all the cores as torch threads, and as ``--nproc 2`` processes sharing them
(half the threads each, gloo), with the same global batch; reports each run's training samples
per second (the median over its epochs, from ``metrics.json``) and their ratio, the efficiency.
Rounds alternate; the median ratio is reported.

    python benchmarks/bench_ddp.py --rounds 2
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

CONFIG = {"dataset": "EmnistLinesDataset", "model": "LineModelCtc", "network": "line_lstm_ctc",
          "dataset_args": {"char_source": "synthetic", "text_source": "builtin", "num_train": 2048, "num_val": 64,
                           "num_test": 64},
          "train_args": {"epochs": 3, "batch_size": 64}}


def samples_per_second(config: str, nproc: int) -> float:
    with tempfile.TemporaryDirectory() as folder:
        env = {**os.environ, "TEXTREC_RUNS_DIR": folder}
        command = [sys.executable, "-m", "textrec_core.cli", "--nowandb", "--quiet", "--nproc", str(nproc), config]
        subprocess.run(command, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        (run,) = Path(folder).iterdir()
        history = json.loads((run / "metrics.json").read_text())["history"]
    return statistics.median(history["train_samples_per_s"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", default=json.dumps(CONFIG), help="the experiment config (JSON)")
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    ratios = []
    for round_number in range(args.rounds):
        speeds = {nproc: samples_per_second(args.config, nproc) for nproc in ((1, 2) if round_number % 2 == 0
                                                                                   else (2, 1))}
        ratios.append(speeds[2] / speeds[1])
        print(f"round {round_number + 1}: 1 process {speeds[1]:.0f} lines/s, 2 processes {speeds[2]:.0f} lines/s, "
              f"ratio {ratios[-1]:.3f}", flush=True)
    print(f"median ratio (2 processes / 1): {statistics.median(ratios):.3f}")


if __name__ == "__main__":
    main()
