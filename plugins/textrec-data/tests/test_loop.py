"""The loop of docs/labeling.md, small and end to end, with the real commands: real handwriting drawn
as a labeling export, imported, verified, a model trained and then fine-tuned on the version from
its bundle, evaluated on the version's test part, and its readings exported as labeling tasks."""

from __future__ import annotations

import json

from textrec_core.bundle import Bundle
from textrec_core.cli import main as textrec_run
from textrec_data.cli import main as textrec_data
from textrec_eval.cli import main as textrec_eval

TINY = {"window_width": 24, "window_stride": 8, "conv_channels": 8, "lstm_size": 16, "lstm_layers": 1}


def config(version, **train_args) -> str:
    return json.dumps({"dataset": "iam_lines", "dataset_args": {"path": str(version), "max_width": 1024},
                       "model": "LineModelCtc", "network": "line_lstm_ctc", "network_args": TINY,
                       "train_args": {"epochs": 1, "batch_size": 16, "num_threads": 1, **train_args}})


def test_export_import_verify_fine_tune_evaluate_and_export_tasks(mirror, tmp_path, capsys):
    assert textrec_data(["sample-export", str(tmp_path / "labels"), "--pages", "8", "--seed", "3"]) == 0
    assert textrec_data(["import", str(tmp_path / "labels" / "export.json"), str(tmp_path / "notebook"),
                         "--val-fraction", "0.25", "--test-fraction", "0.25"]) == 0
    version = tmp_path / "notebook" / "v1"
    assert textrec_data(["verify", str(version)]) == 0

    assert textrec_run(["--save", "--nowandb", "--quiet", config(version)]) == 0
    base = next((tmp_path / "runs").glob("*/model"))
    assert textrec_run(["--save", "--nowandb", "--quiet", config(version, init_from=str(base))]) == 0
    tuned = Bundle(next(p for p in (tmp_path / "runs").glob("*/model") if p != base))
    assert tuned.dataset_version.startswith("notebook v1 sha256:")
    assert tuned.init_from["path"] == str(base.resolve())
    assert tuned.meta["network_args"] == Bundle(base).meta["network_args"]

    capsys.readouterr()
    assert textrec_eval([str(tuned.path), str(version), "--json"]) == 0
    evaluated = json.loads(capsys.readouterr().out)
    test_ids = (version / "splits" / "test.lst").read_text().split()
    assert evaluated["lines"] == len(test_ids) > 0

    tasks_file = tmp_path / "tasks.json"
    assert textrec_data(["export-tasks", str(tuned.path), str(version / "unlabeled"), str(tasks_file)]) == 0
    tasks = json.loads(tasks_file.read_text())
    assert len(tasks) == len(list((version / "unlabeled").iterdir())) > 0
    scores = [task["predictions"][0]["score"] for task in tasks]
    assert scores == sorted(scores)
