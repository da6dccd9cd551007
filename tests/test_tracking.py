"""W&B: offline by default without an account, disabled by --nowandb, never online in tests."""

from __future__ import annotations

import logging

import pytest

from textrec_core.cli import main
from textrec_core.tracking import wandb_mode


@pytest.fixture
def no_account(monkeypatch, tmp_path):
    monkeypatch.delenv("WANDB_MODE", raising=False)
    monkeypatch.delenv("WANDB_API_KEY", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))  # no ~/.netrc, no wandb settings
    monkeypatch.setenv("NETRC", str(tmp_path / "netrc"))


def test_offline_without_an_api_key(no_account):
    assert wandb_mode(disabled=False) == "offline"


def test_online_with_an_api_key_in_netrc(no_account, tmp_path):
    (tmp_path / ".netrc").write_text("machine api.wandb.ai\n  login user\n  password " + "0" * 40 + "\n")
    (tmp_path / ".netrc").chmod(0o600)
    assert wandb_mode(disabled=False) == "online"


def test_nowandb_and_wandb_mode_win(no_account, monkeypatch):
    monkeypatch.setenv("WANDB_API_KEY", "0" * 40)
    assert wandb_mode(disabled=True) == "disabled"
    monkeypatch.setenv("WANDB_MODE", "offline")
    assert wandb_mode(disabled=False) == "offline"


def test_a_run_without_an_account_is_saved_offline(no_account, toy, tmp_path, caplog):
    caplog.set_level(logging.INFO, logger="textrec")
    assert main(["--quiet", toy.config(train_args={"epochs": 1})]) == 0
    (run,) = (tmp_path / "runs").iterdir()
    (offline,) = (run / "wandb").glob("offline-run-*")
    assert list(offline.glob("run-*.wandb"))
    assert f"wandb sync {offline}" in caplog.text
