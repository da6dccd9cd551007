"""Checkpoints and ``textrec-run --resume``: the random states round-trip, a checkpoint is read with
``weights_only=True``, and a run killed by SIGKILL mid-epoch and resumed ends exactly as the same
run left alone (same history, test metrics and weights), also a run started from a bundle
(``train_args.init_from``), which resumes from its checkpoint without reading the bundle again."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from textrec_core.bundle import WEIGHTS_FILE, Bundle
from textrec_core.checkpoint import CHECKPOINT_FILE, load_checkpoint, random_states, restore_random_states
from textrec_core.errors import TextrecError
from textrec_core.services.download import sha256_file

CHILD = Path(__file__).resolve().parent / "resume_child.py"
#: 640 stripes: 384 training samples, 12 steps of 32 per epoch; dropout in the toy's training step.
CONFIG = {"dataset": "stripes", "dataset_args": {"size": 640}, "model": "dropping_toy", "network": "toy_mlp",
          "train_args": {"epochs": 5, "batch_size": 32, "learning_rate": 0.01, "lr_schedule": "onecycle",
                         "patience": 0, "num_threads": 1, "prefetch": 2}}
STEPS_PER_EPOCH = 12
#: Wall-clock figures differ between any two runs.
TIMINGS = {"train_samples_per_s", "epoch_seconds"}


def textrec_run(runs: Path, *args: str, kill_at_step: int = 0) -> subprocess.CompletedProcess:
    env = {**os.environ, "TEXTREC_PLUGINS": "", "TEXTREC_RUNS_DIR": str(runs),
           "TEXTREC_TEST_KILL_AT_STEP": str(kill_at_step)}
    return subprocess.run([sys.executable, str(CHILD), "--nowandb", "--quiet", "--save", *args], env=env,
                          capture_output=True, text=True, timeout=600)


def outcome(run_dir: Path) -> tuple[dict, dict, dict]:
    metrics = json.loads((run_dir / "metrics.json").read_text())
    history = {k: v for k, v in metrics["history"].items() if k not in TIMINGS}
    weights = torch.load(run_dir / "model" / "weights.pt", weights_only=True)
    return history, metrics["test"], weights


def killed_and_resumed(tmp_path: Path, config: dict, *, epochs_done: int,
                       before_resuming=lambda run_dir: None) -> tuple[Path, Path]:
    """Run ``config`` alone, and again killed by SIGKILL mid-epoch after ``epochs_done`` epochs, call
    ``before_resuming(run_dir)``, resume it, and check that both end alike (history, test metrics,
    weights); the two run folders, resumed and alone."""
    alone = textrec_run(tmp_path / "alone", json.dumps(config))
    assert alone.returncode == 0, alone.stderr
    killed = textrec_run(tmp_path / "killed", json.dumps(config), kill_at_step=epochs_done * STEPS_PER_EPOCH + 5)
    assert killed.returncode == -signal.SIGKILL
    (run_dir,) = (tmp_path / "killed").iterdir()
    assert load_checkpoint(run_dir / CHECKPOINT_FILE)["progress"]["epoch"] == epochs_done
    assert not (run_dir / "model").exists()
    before_resuming(run_dir)
    resumed = textrec_run(tmp_path / "unused", "--resume", str(run_dir))
    assert resumed.returncode == 0, resumed.stderr
    epochs = config["train_args"]["epochs"]
    assert f"resuming after epoch {epochs_done} of {epochs}" in (run_dir / "run.log").read_text()
    (alone_dir,) = (tmp_path / "alone").iterdir()
    history, test, weights = outcome(run_dir)
    expected_history, expected_test, expected_weights = outcome(alone_dir)
    assert len(history["val_loss"]) == epochs
    assert history == expected_history and test == expected_test
    assert weights.keys() == expected_weights.keys()
    assert all(torch.equal(weights[key], expected_weights[key]) for key in weights)
    assert not (tmp_path / "unused").exists()  # a resumed run stays in its own folder
    return run_dir, alone_dir


def test_a_run_killed_mid_epoch_and_resumed_ends_as_the_run_left_alone(tmp_path):
    killed_and_resumed(tmp_path, CONFIG, epochs_done=3)


def test_a_run_started_from_a_bundle_resumes_from_its_checkpoint_without_the_bundle(tmp_path):
    first = textrec_run(tmp_path / "first", json.dumps({**CONFIG, "train_args": {**CONFIG["train_args"], "epochs": 1}}))
    assert first.returncode == 0, first.stderr
    (first_dir,) = (tmp_path / "first").iterdir()
    bundle = first_dir / "model"
    record = {"path": str(bundle.resolve()), "sha256": sha256_file(bundle / WEIGHTS_FILE)}
    config = {**CONFIG, "dataset": "crosses", "train_args": {**CONFIG["train_args"], "epochs": 3,
                                                             "init_from": str(bundle)}}
    # a resumed run continues from its checkpoint and never reads the bundle
    run_dir, alone_dir = killed_and_resumed(tmp_path, config, epochs_done=1,
                                            before_resuming=lambda _: bundle.rename(tmp_path / "moved"))
    for finished in (run_dir, alone_dir):
        assert Bundle(finished / "model").init_from == record
        assert Bundle(finished / "model").dataset_version == "crosses v1"


def test_a_finished_run_resumed_trains_no_more(tmp_path):
    config = {**CONFIG, "train_args": {**CONFIG["train_args"], "epochs": 2}}
    assert textrec_run(tmp_path, json.dumps(config)).returncode == 0
    (run_dir,) = tmp_path.iterdir()
    before = json.loads((run_dir / "metrics.json").read_text())
    again = textrec_run(tmp_path, "--resume", str(run_dir))
    assert again.returncode == 0, again.stderr
    after = json.loads((run_dir / "metrics.json").read_text())
    assert after == before  # the same history, and the same test metrics from the same best weights


@pytest.mark.parametrize(("args", "message"), [
    (["--resume", "MISSING"], "--resume: 'MISSING' is not a run folder"),
    (["--resume", "EMPTY_RUN"], "--resume: no checkpoint at"),
    (["--resume", "DAMAGED_RUN"], "--resume: cannot read the checkpoint"),
    (["--resume", "EMPTY_RUN", '{"dataset": "stripes"}'], "give no CONFIG and no --check"),
])
def test_bad_resumes_exit_2_with_one_paragraph(tmp_path, args, message):
    empty_run, damaged_run = tmp_path / "empty", tmp_path / "damaged"
    for run_dir in (empty_run, damaged_run):
        run_dir.mkdir()
        (run_dir / "config.json").write_text(json.dumps(CONFIG))
    (damaged_run / CHECKPOINT_FILE).write_bytes(b"not a checkpoint")
    places = {"MISSING": str(tmp_path / "missing"), "EMPTY_RUN": str(empty_run), "DAMAGED_RUN": str(damaged_run)}

    def placed(text: str) -> str:
        for name, path in places.items():
            text = text.replace(name, path)
        return text

    done = textrec_run(tmp_path / "runs", *map(placed, args))
    assert done.returncode == 2
    assert placed(message) in done.stderr and "Traceback" not in done.stderr


def test_random_states_round_trip_through_a_weights_only_file(tmp_path):
    generator = torch.Generator().manual_seed(3)
    random.seed(1)
    np.random.seed(2)
    torch.manual_seed(4)
    torch.save(random_states(generator), tmp_path / "states.pt")
    draws = (torch.rand(3, generator=generator), torch.rand(3), np.random.rand(3), random.random())
    restore_random_states(torch.load(tmp_path / "states.pt", weights_only=True), generator)
    again = (torch.rand(3, generator=generator), torch.rand(3), np.random.rand(3), random.random())
    assert torch.equal(draws[0], again[0]) and torch.equal(draws[1], again[1])
    assert np.array_equal(draws[2], again[2]) and draws[3] == again[3]


def test_a_checkpoint_of_another_format_is_refused(tmp_path):
    torch.save({"format": 99}, tmp_path / CHECKPOINT_FILE)
    with pytest.raises(TextrecError, match="not a textrec checkpoint of format 1"):
        load_checkpoint(tmp_path / CHECKPOINT_FILE)
