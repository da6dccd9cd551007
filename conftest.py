"""Test setup shared by the core's and every plugin's tests.

No test talks to W&B or writes to the user's data cache or ./runs. Real-data tests get the
mirror from the ``mirror`` fixture, which skips them with a reason where it is absent.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent


def mirror_root() -> Path | None:
    """The real-data mirror: ``$TEXTREC_DATA_MIRROR`` if set, else ``../shared/mirror`` beside the repo."""
    configured = os.environ.get("TEXTREC_DATA_MIRROR")
    root = Path(configured) if configured else REPO.parent / "shared" / "mirror"
    return root if root.is_dir() else None


@pytest.fixture(scope="session", autouse=True)
def _session_data_dir(tmp_path_factory):
    """One data cache for the session, so real data is fetched and parsed once."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("TEXTREC_DATA_DIR", str(tmp_path_factory.mktemp("textrec-data")))
        mp.delenv("TEXTREC_DATA_MIRROR", raising=False)
        yield


@pytest.fixture(autouse=True)
def _isolated(monkeypatch, tmp_path):
    monkeypatch.setenv("WANDB_MODE", "disabled")
    monkeypatch.setenv("TEXTREC_RUNS_DIR", str(tmp_path / "runs"))
    monkeypatch.delenv("TEXTREC_PLUGINS", raising=False)


@pytest.fixture(scope="session")
def mirror_dir() -> Path:
    """The real-data mirror root; skips the tests that need it where it is absent."""
    if _MIRROR is None:
        pytest.skip("real-data mirror not found: set TEXTREC_DATA_MIRROR or place shared/mirror beside the repo")
    return _MIRROR


@pytest.fixture
def mirror(mirror_dir, monkeypatch) -> Path:
    """The real-data mirror root, set as ``TEXTREC_DATA_MIRROR`` for one test."""
    monkeypatch.setenv("TEXTREC_DATA_MIRROR", str(mirror_dir))
    return mirror_dir


_MIRROR = mirror_root()
