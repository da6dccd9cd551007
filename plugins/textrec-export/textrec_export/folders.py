"""Replacing a folder atomically: readers see the old folder or the complete new one, never a mix."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from textrec_core.services.fileio import make_public


@contextmanager
def replacing_folder(target: Path) -> Iterator[Path]:
    """A new empty folder beside ``target`` to fill; when the block ends without an error it
    replaces ``target`` (an existing one is moved aside first and deleted once the new one is in
    place); when it raises, the new folder is deleted and ``target`` is left as it was. The parent
    of ``target`` must exist. The new folder has the permissions of a folder made under the umask
    (not mkdtemp's 0700), so a server running as another user reads it as it reads the bundle."""
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    make_public(staging)
    try:
        yield staging
        if not target.exists():
            os.replace(staging, target)
            return
        aside = Path(tempfile.mkdtemp(prefix=f".{target.name}.old.", dir=target.parent))
        try:
            os.replace(target, aside / target.name)
            try:
                os.replace(staging, target)
            except BaseException:
                os.replace(aside / target.name, target)
                raise
        finally:
            shutil.rmtree(aside, ignore_errors=True)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
