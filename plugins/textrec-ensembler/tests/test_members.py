"""Training members in one go: the machine's share per member, the member configs, and a real
two-member training through ``textrec-ensemble-train`` that an interrupted rerun continues."""

from __future__ import annotations

import json
import logging
import os

import pytest

from textrec_core import load_predictor
from textrec_core.bundle import META_FILE
from textrec_core.errors import ConfigError
from textrec_ensembler import EnsemblePredictor, members
from textrec_ensembler.cli import train_main
from textrec_ensembler.members import LOG_FILE, Plan, member_config, plan

TINY = {"dataset": "EmnistLinesDataset", "model": "LineModelCtc", "network": "line_lstm_ctc",
        "dataset_args": {"char_source": "synthetic", "text_source": "builtin", "max_length": 8,
                         "num_train": 32, "num_val": 8, "num_test": 8},
        "network_args": {"lstm_size": 16, "conv_channels": 8},
        "train_args": {"epochs": 1, "batch_size": 16, "seed": 5}}


@pytest.mark.parametrize(("members", "parallel", "cores", "gpus", "expected"), [
    (3, None, 2, 0, Plan(2, 1)),          # two cores: two members at a time, one thread each
    (3, None, 16, 0, Plan(3, 5)),         # no more at once than there are members, the cores shared
    (20, None, 16, 0, Plan(16, 1)),       # no more at once than there are cores
    (3, 1, 2, 0, Plan(1, 2)),             # asked for one at a time: it has both cores
    (4, None, 16, 2, Plan(2, 8, (0, 1))),  # one member per GPU
    (2, None, 1, 0, Plan(1, 1)),
])
def test_plan_shares_the_cores_or_gpus(members, parallel, cores, gpus, expected):
    assert plan(members, parallel, cores=cores, gpus=gpus) == expected


def test_plan_refuses_no_parallel_members():
    with pytest.raises(ConfigError, match="--parallel: must be at least 1"):
        plan(2, 0, cores=2, gpus=0)


def test_member_configs_differ_in_seed_and_set_threads():
    assert member_config(TINY, 2, 3)["train_args"] == {"epochs": 1, "batch_size": 16, "seed": 7, "num_threads": 3}
    assert member_config({"dataset": "x"}, 1, 1)["train_args"] == {"seed": 1, "num_threads": 1}
    assert TINY["train_args"]["seed"] == 5  # the caller's config is left as it was


def test_train_members_then_ensemble_and_a_rerun_keeps_trained_members(tmp_path, capsys, caplog):
    out = tmp_path / "ens"
    args = [json.dumps(TINY), str(out), "--members", "2", "--nowandb", "--quiet",
            "--combine", "average", "--calibrate"]
    assert train_main(args) == 0, capsys.readouterr().err
    assert capsys.readouterr().out.strip() == f"ensemble of 2 (average): {out / 'ensemble'}"
    configs = [json.loads(next((out / "members" / str(i) / "runs").glob(f"*/model/{META_FILE}")).read_text())
               for i in range(2)]
    assert [c["config"]["train_args"]["seed"] for c in configs] == [5, 6]
    threads = [c["config"]["train_args"]["num_threads"] for c in configs]
    assert threads == [max(1, len(os.sched_getaffinity(0)) // 2)] * 2  # two members at once share the cores
    assert all((out / "members" / str(i) / LOG_FILE).is_file() for i in range(2))
    predictor = load_predictor(out / "ensemble")
    assert isinstance(predictor, EnsemblePredictor) and predictor.model.calibration is not None
    # the ensemble exists: a rerun refuses; once it is removed, a rerun trains nothing again
    assert train_main(args) == 2 and "already built" in capsys.readouterr().err
    bundle = next((out / "members" / "0" / "runs").glob("*/model"))
    stamp = (bundle / META_FILE).stat().st_mtime_ns
    (out / "ensemble" / META_FILE).unlink()
    for path in sorted((out / "ensemble").rglob("*"), reverse=True):
        path.unlink() if path.is_file() else path.rmdir()
    (out / "ensemble").rmdir()
    caplog.set_level(logging.INFO, logger="textrec")
    assert train_main(args) == 0
    assert "2 members (2 already trained)" in caplog.text
    assert (bundle / META_FILE).stat().st_mtime_ns == stamp


def test_bad_configs_fail_before_any_member_starts(tmp_path, capsys):
    out = tmp_path / "ens"
    assert train_main([json.dumps({**TINY, "network": "no_such_network"}), str(out), "--quiet"]) == 2
    assert "no_such_network" in capsys.readouterr().err and not (out / "members").exists()
    assert train_main([json.dumps(TINY), str(out), "--members", "1"]) == 2
    assert "two or more members" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_:
        train_main([json.dumps(TINY), str(out), "--parallel", "0"])
    assert exit_.value.code == 2


def test_a_failing_member_names_its_log(tmp_path, capsys, monkeypatch):
    text = tmp_path / "text.txt"
    text.write_text("some text to build lines from\n")
    broken = {**TINY, "dataset_args": {**TINY["dataset_args"], "text_source": str(text)}}
    real = members.train_member

    def remove_then_train(*args, **kwargs):  # the text is there when checked, gone when a member reads it
        text.unlink(missing_ok=True)
        return real(*args, **kwargs)

    monkeypatch.setattr(members, "train_member", remove_then_train)
    out = tmp_path / "ens"
    assert train_main([json.dumps(broken), str(out), "--members", "2", "--quiet", "--nowandb"]) == 1
    err = capsys.readouterr().err
    assert "failed (exit status" in err and LOG_FILE in err and not (out / "ensemble").exists()
