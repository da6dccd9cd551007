"""What a sweep adds to each trial: the same runs trained directly and as the trials of a sweep.

Trains ``--trials`` runs of one config (LineModelCtc + line_lstm_ctc on synthetic EMNIST lines, offline,
by default) in this process, first one after another with ``run_experiment`` (what ``textrec-run``
does), then as the trials of a one-worker random sweep whose only parameter is fixed
(``textrec-sweep``: Optuna's study in SQLite, the trial's config written, per-epoch reports, the
heartbeat, the results table and pictures at the end), after one untimed run that pays the
one-off costs (caches, torch's first calls). The difference per trial is the sweep's overhead; it
is reported next to the time of one run.

    python benchmarks/bench_sweep.py --trials 4
"""

from __future__ import annotations

import argparse
import json
import logging
import tempfile
import time
from pathlib import Path

import torch

from textrec_core.experiment import run_experiment
from textrec_sweep.cli import main as sweep

CONFIG = {"dataset": "EmnistLinesDataset", "model": "LineModelCtc", "network": "line_lstm_ctc",
          "dataset_args": {"char_source": "synthetic", "text_source": "builtin", "num_train": 1024, "num_val": 128,
                           "num_test": 128},
          "train_args": {"epochs": 2, "batch_size": 64}}
SWEEP = """method: random
metric: {name: val_cer, goal: minimize}
parameters:
  train_args.seed: {value: 0}
run_cap: %d
command: [textrec-run, base.json]
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trials", type=int, default=4)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    torch.set_num_threads(args.threads)
    config = {**CONFIG, "train_args": {**CONFIG["train_args"], "num_threads": args.threads}}
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        run_experiment(json.dumps(config), use_wandb=False, progress=False, runs_dir=root / "warm-up")  # one-off costs
        start = time.perf_counter()
        for _ in range(args.trials):
            run_experiment(json.dumps(config), use_wandb=False, progress=False, runs_dir=root / "direct")
        direct = time.perf_counter() - start
        (root / "base.json").write_text(json.dumps(config))
        (root / "sweep.yaml").write_text(SWEEP % args.trials)
        start = time.perf_counter()
        assert sweep([str(root / "sweep.yaml"), "--folder", str(root / "sweep"), "--nowandb",
                      "--threads", str(args.threads)]) == 0
        swept = time.perf_counter() - start
    per_run, per_trial = direct / args.trials, swept / args.trials
    print(f"{args.trials} runs: directly {direct:.1f} s ({per_run:.2f} s a run), as sweep trials {swept:.1f} s "
          f"({per_trial:.2f} s a trial); overhead {per_trial - per_run:.2f} s a trial, "
          f"{(per_trial - per_run) / per_run:.1%} of a run")


if __name__ == "__main__":
    main()
