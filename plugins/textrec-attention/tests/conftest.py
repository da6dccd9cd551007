"""Fixtures shared by the attention plugin's tests."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _one_thread(one_thread: None) -> None:
    """Every test here runs on one torch thread (``one_thread`` from ``textrec_core.testing``)."""
