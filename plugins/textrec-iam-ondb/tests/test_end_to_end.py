"""One textrec-run: LineModelCtc with line_lstm_ctc trains an epoch on the fixture's lines."""

from __future__ import annotations

import hashlib
import json

from textrec_core.cli import main

DATASET_ARGS = {"height": 32, "max_width": 512, "max_length": 24, "val_fraction": 0.2, "test_fraction": 0.2}


def run(dataset_args: dict) -> int:
    config = {"dataset": "iam_ondb", "dataset_args": dataset_args, "model": "LineModelCtc", "network": "line_lstm_ctc",
              "network_args": {"conv_channels": 8, "lstm_size": 16, "lstm_layers": 1},
              "train_args": {"epochs": 1, "batch_size": 8, "precision": "float32"}}
    return main(["--nowandb", "--quiet", json.dumps(config)])


def test_trains_one_epoch_on_fixture_lines_from_a_mirror(facts, tmp_path, monkeypatch, one_thread):
    folder = tmp_path / "mirror" / "iam-ondb"
    folder.mkdir(parents=True)
    for name, body in facts["archive_bytes"].items():
        (folder / name).write_bytes(body)
    (folder / "SHA256SUMS").write_text("".join(f"{hashlib.sha256(body).hexdigest()}  {name}\n"
                                               for name, body in facts["archive_bytes"].items()))
    monkeypatch.setenv("TEXTREC_DATA_MIRROR", str(folder.parent))
    assert run(DATASET_ARGS) == 0


def test_trains_one_epoch_on_fixture_lines_from_data_path(archives, one_thread):
    assert run({**DATASET_ARGS, "path": str(archives)}) == 0
