"""``textrec-sweep`` end to end on tiny LSTM-CTC models of synthetic EMNIST lines (offline): a random
sweep with two workers, its table and pictures, a rerun that continues, a grid, hyperband's reports,
and a worker killed mid-trial whose trial another worker finishes."""

from __future__ import annotations

import csv
import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import optuna
import pytest

from textrec_sweep.cli import main
from textrec_sweep.results import FILES
from textrec_sweep.study import ReportEpochs

BASE = {"dataset": "EmnistLinesDataset", "model": "LineModelCtc", "network": "line_lstm_ctc",
        "dataset_args": {"char_source": "synthetic", "text_source": "builtin", "max_length": 8, "num_train": 128,
                         "num_val": 32, "num_test": 32},
        "network_args": {"conv_channels": 8, "lstm_size": 16}, "train_args": {"epochs": 2, "batch_size": 32}}
COMMAND = "command:\n  - ${env}\n  - textrec-run\n  - base.json\n  - ${args_no_hyphens}\n"


@pytest.fixture
def sweep_file(tmp_path):
    def write(text: str, base: dict = BASE) -> str:
        (tmp_path / "base.json").write_text(json.dumps(base))
        path = tmp_path / "sweep.yaml"
        path.write_text(text + COMMAND)
        return str(path)

    return write


def table(folder) -> list[dict[str, str]]:
    with open(folder / "results.csv", encoding="utf-8") as file:
        return list(csv.DictReader(file))


RANDOM = """method: random
metric: {name: val_cer, goal: minimize}
parameters:
  network_args.lstm_size: {values: [8, 16]}
  train_args.learning_rate: {distribution: log_uniform_values, min: 0.001, max: 0.01}
run_cap: 4
"""


def test_a_random_sweep_with_two_workers_then_a_rerun_that_continues(sweep_file, tmp_path):
    folder = tmp_path / "sweep"
    path = sweep_file(RANDOM)
    assert main([path, "--folder", str(folder), "--workers", "2", "--nowandb", "--seed", "1"]) == 0
    rows = table(folder)
    assert len(rows) == 4 and {row["state"] for row in rows} == {"complete"}
    assert all(0 <= float(row["val_cer"]) for row in rows)
    assert len({row["train_args.learning_rate"] for row in rows}) == 4  # two workers, four different draws
    for row in rows:  # each trial trained in its own run folder, with its parameters set
        (run,) = Path(row["run"]).iterdir()
        config = json.loads((run / "config.json").read_text())
        assert config["network_args"]["lstm_size"] == int(row["network_args.lstm_size"])
        assert config["train_args"]["learning_rate"] == pytest.approx(float(row["train_args.learning_rate"]))
        assert config["train_args"]["num_threads"] >= 1
    assert sorted(p.name for p in folder.iterdir()) == sorted([*FILES, "runs", "study.db"])
    assert "| trial | state | val_cer |" in (folder / "results.md").read_text()
    assert main([path, "--folder", str(folder), "--trials", "5", "--nowandb"]) == 0
    again = table(folder)
    assert len(again) == 5 and again[:4] == rows  # the finished trials are kept, one more is run


def test_a_grid_sweep_runs_each_point_once(sweep_file, tmp_path):
    folder = tmp_path / "grid"
    path = sweep_file("method: grid\nmetric: {name: val_loss, goal: minimize}\n"
                      "parameters:\n  network_args.lstm_size: {values: [8, 12, 16]}\n")
    assert main([path, "--folder", str(folder), "--nowandb"]) == 0
    rows = table(folder)
    assert sorted(int(row["network_args.lstm_size"]) for row in rows) == [8, 12, 16]


def test_the_epoch_reports_feed_the_pruner_and_the_best_epoch_is_the_value():
    study = optuna.create_study(direction="minimize", pruner=optuna.pruners.ThresholdPruner(upper=0.5))
    reporter = ReportEpochs(study.ask(), "val_cer", "minimize")
    reporter.on_epoch_end(1, {"val_cer": 0.4})
    reporter.on_epoch_end(2, {"val_cer": 0.3})
    assert reporter.best() == 0.3
    with pytest.raises(optuna.TrialPruned):
        reporter.on_epoch_end(3, {"val_cer": 0.6})
    with pytest.raises(Exception, match="the runs report no 'val_acc'"):
        ReportEpochs(study.ask(), "val_acc", "maximize").on_epoch_end(1, {"val_cer": 0.4})


@pytest.mark.parametrize(("text", "message"), [
    ("method: random\nmetric: {name: val_cer}\nparameters:\n  network_args.lstm_size: {values: [8]}\n",
     "run_cap: a random sweep needs run_cap in the file or --trials"),
    ("method: hill\n", "method: must be one of grid, random, bayes"),
])
def test_bad_sweeps_exit_2(sweep_file, tmp_path, capsys, text, message):
    assert main([sweep_file(text), "--folder", str(tmp_path / "bad")]) == 2
    assert message in capsys.readouterr().err and not (tmp_path / "bad").exists()


def test_a_bad_base_config_fails_before_any_trial(sweep_file, tmp_path, capsys):
    path = sweep_file(RANDOM, {**BASE, "network": "no_such_network"})
    assert main([path, "--folder", str(tmp_path / "bad")]) == 2
    assert "no_such_network" in capsys.readouterr().err and not (tmp_path / "bad").exists()


def test_a_killed_worker_loses_no_trial_and_none_runs_twice(sweep_file, tmp_path):
    """Two machines, simulated: two worker processes join one study through its database URL. The first
    is killed (SIGKILL) in the middle of its first trial; the second finds that trial dead once its
    heartbeat has been silent for the grace period, and runs it again with the same parameters."""
    slow = {**BASE, "dataset_args": {**BASE["dataset_args"], "num_train": 512}, "train_args": {"epochs": 3}}
    path = sweep_file(RANDOM.replace("run_cap: 4", "run_cap: 3"), slow)
    folder, url = tmp_path / "shared", f"sqlite:///{tmp_path / 'shared.db'}"
    folder.mkdir()
    join = [sys.executable, "-m", "textrec_sweep.cli", path, "--join", "--folder", str(folder), "--storage", url,
            "--study", "s", "--grace", "2", "--nowandb", "--threads", "1"]
    first = subprocess.Popen([*join, "--seed", "1"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    study = None
    while time.monotonic() < deadline:
        try:
            study = optuna.load_study(study_name="s", storage=url)
            if any(t.state == optuna.trial.TrialState.RUNNING for t in study.get_trials()):
                break
        except KeyError:  # the study is not created yet
            pass
        time.sleep(0.2)
    time.sleep(1.0)
    first.send_signal(signal.SIGKILL)
    assert first.wait() == -signal.SIGKILL
    (killed,) = study.get_trials(states=(optuna.trial.TrialState.RUNNING,))
    second = subprocess.run([*join, "--seed", "2"], capture_output=True, text=True, timeout=600)
    assert second.returncode == 0, second.stderr
    trials = optuna.load_study(study_name="s", storage=url).get_trials()
    complete = [t for t in trials if t.state == optuna.trial.TrialState.COMPLETE]
    assert len(complete) == 3 and len({t.number for t in complete}) == 3
    assert trials[killed.number].state == optuna.trial.TrialState.FAIL  # found dead...
    assert any(t.params == killed.params for t in complete)  # ...and run again, to the end


def test_an_experiment_group_runs_each_config_once_in_one_table(tmp_path):
    (tmp_path / "wide.json").write_text(json.dumps({**BASE, "network_args": {"conv_channels": 8, "lstm_size": 24}}))
    group = tmp_path / "group.json"
    group.write_text(json.dumps({"metric": {"name": "val_cer", "goal": "minimize"},
                                 "experiments": [BASE, "wide.json"]}))
    folder = tmp_path / "group"
    assert main([str(group), "--folder", str(folder), "--workers", "2", "--nowandb"]) == 0
    rows = sorted(table(folder), key=lambda row: row["experiment"])
    assert [row["experiment"] for row in rows] == ["0: LineModelCtc + line_lstm_ctc", "1: wide"]
    assert {row["state"] for row in rows} == {"complete"}
    (run,) = Path(rows[1]["run"]).iterdir()
    assert json.loads((run / "config.json").read_text())["network_args"]["lstm_size"] == 24


@pytest.mark.parametrize(("content", "message"), [
    ("[]", "experiments: must list one or more configs"),
    ('{"experiments": [3]}', "experiments.0: must be a config object or a config file"),
    ('{"metric": {"goal": "up"}, "experiments": [{}]}', "metric: must be"),
    ('{"runs": []}', "an experiment group is a list of configs"),
    ("{not json", "is not valid JSON"),
    ('[{"dataset": "EmnistLinesDataset", "model": "LineModelCtc", "network": "nope"}]', "nope"),
])
def test_bad_experiment_groups_exit_2(tmp_path, capsys, content, message):
    group = tmp_path / "group.json"
    group.write_text(content)
    assert main([str(group), "--folder", str(tmp_path / "bad")]) == 2
    assert message in capsys.readouterr().err and not (tmp_path / "bad").exists()
