"""Fixtures shared by the attention plugin's tests."""

from __future__ import annotations

import pytest
import torch

from textrec_core.plugins import reset_host


@pytest.fixture(autouse=True)
def one_thread():
    """Run on one thread: the steps here are small, and on a shared machine threads contending for
    cores slow them tenfold."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture
def bare_host(monkeypatch):
    """A plugin host with no installed plugin loaded (request it before ``textrec_plugin``)."""
    monkeypatch.setenv("TEXTREC_PLUGINS", "")
    reset_host()
    yield
    reset_host()
