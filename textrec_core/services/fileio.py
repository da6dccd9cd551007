"""Atomic file writes: a reader never sees a half-written file."""

from __future__ import annotations

import json
import os
import tempfile
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np


def _read_umask() -> int:
    """The process's file-creation mask, read once at import (reading it means setting it)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


_UMASK = _read_umask()


def make_public(path: Path) -> None:
    """Give a folder made by :func:`tempfile.mkdtemp` (mode 0700) the permissions a new folder gets
    under the process's umask, so that other users (a container's serving user) can read it."""
    os.chmod(path, 0o777 & ~_UMASK)


def atomic_write(path: Path, write: Callable[[Path], None]) -> Path:
    """Call ``write(tmp_path)`` on a temporary sibling of ``path``, then rename it into place."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=path.suffix, dir=path.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp's 0600 would make every written file private
    try:
        write(tmp)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def save_arrays(path: Path, **arrays: np.ndarray) -> Path:
    """Write ``arrays`` as an uncompressed ``.npz``, atomically."""

    def write(tmp: Path) -> None:
        with tmp.open("wb") as f:
            np.savez(f, **arrays)

    return atomic_write(path, write)


def load_arrays(path: Path) -> dict[str, np.ndarray] | None:
    """The arrays of a ``.npz`` cache file, or None when it is missing or damaged (derived data
    is rebuilt rather than reported)."""
    if not Path(path).is_file():
        return None
    try:
        with np.load(path) as cached:
            return {name: cached[name] for name in cached.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile):
        return None


def write_json(path: Path, data: Any) -> Path:
    """Write ``data`` as indented JSON, atomically."""
    text = json.dumps(data, indent=2, sort_keys=False, default=str) + "\n"
    return atomic_write(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))
