"""``textrec-run --nproc 2``: two processes with DistributedDataParallel on the CPU (gloo) follow the
loss trajectory of one process with the same global batch, and only rank 0 writes a run folder."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from textrec_core.cli import without_nproc

CHILD = Path(__file__).resolve().parent / "resume_child.py"
#: 384 training stripes: 12 global batches of 32 a epoch, 16 lines per process.
CONFIG = {"dataset": "stripes", "dataset_args": {"size": 640}, "model": "toy", "network": "toy_mlp",
          "train_args": {"epochs": 4, "batch_size": 32, "learning_rate": 0.01, "patience": 0, "num_threads": 1,
                         "precision": "float32"}}  # float32: the sums in another order, not another rounding


def textrec_run(runs: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "TEXTREC_PLUGINS": "", "TEXTREC_RUNS_DIR": str(runs)}
    env.pop("WORLD_SIZE", None)
    return subprocess.run([sys.executable, str(CHILD), "--nowandb", "--quiet", "--save", *args], env=env,
                          capture_output=True, text=True, timeout=600)


def test_two_processes_follow_the_loss_trajectory_of_one(tmp_path):
    one = textrec_run(tmp_path / "one", json.dumps(CONFIG))
    assert one.returncode == 0, one.stderr
    two = textrec_run(tmp_path / "two", "--nproc", "2", json.dumps(CONFIG))
    assert two.returncode == 0, two.stderr
    (one_dir,), (two_dir,) = (tmp_path / "one").iterdir(), (tmp_path / "two").iterdir()  # rank 0 alone writes
    single = json.loads((one_dir / "metrics.json").read_text())
    double = json.loads((two_dir / "metrics.json").read_text())
    for key in ("train_loss", "val_loss", "val_accuracy"):
        assert double["history"][key] == pytest.approx(single["history"][key], rel=1e-4, abs=1e-6), key
    assert double["test"] == pytest.approx(single["test"], rel=1e-4, abs=1e-6)
    a = torch.load(one_dir / "model" / "weights.pt", weights_only=True)
    b = torch.load(two_dir / "model" / "weights.pt", weights_only=True)
    assert all(torch.allclose(a[k], b[k], rtol=1e-4, atol=1e-6) for k in a)


def test_the_launcher_passes_every_argument_but_nproc():
    assert without_nproc(["--nproc", "2", "--save", "{}"]) == ["--save", "{}"]
    assert without_nproc(["--nproc=4", "--quiet", "{}", "a.b=1"]) == ["--quiet", "{}", "a.b=1"]
