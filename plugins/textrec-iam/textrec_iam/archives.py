"""Reading the members of IAM's archives (``.tgz`` and ``.zip``) in one streaming pass, never
extracting them to disk; a damaged archive is a :class:`~textrec_core.errors.DataError` naming it."""

from __future__ import annotations

import tarfile
import zipfile
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path

from textrec_core.errors import DataError

_ERRORS = (tarfile.TarError, zipfile.BadZipFile, OSError, EOFError, zlib.error)


def read_members(archive: Path, wanted: Callable[[str], bool]) -> Iterator[tuple[str, bytes]]:
    """``(member name, bytes)`` of each regular file in ``archive`` whose name ``wanted`` accepts,
    in archive order; a leading ``./`` is removed from names."""
    if archive.suffix == ".zip":
        yield from _zip_members(archive, wanted)
        return
    try:
        tar = tarfile.open(archive, "r:*")
    except _ERRORS as exc:
        raise DataError(f"cannot read the archive {archive}: {exc}") from exc
    with tar:
        name = "its start"
        try:
            for member in tar:
                name = member.name.removeprefix("./")
                if member.isfile() and wanted(name):
                    stream = tar.extractfile(member)
                    if stream is not None:
                        yield name, stream.read()
        except _ERRORS as exc:
            raise DataError(f"the archive {archive} is damaged at {name}: {exc}") from exc


def _zip_members(archive: Path, wanted: Callable[[str], bool]) -> Iterator[tuple[str, bytes]]:
    try:
        opened = zipfile.ZipFile(archive)
    except _ERRORS as exc:
        raise DataError(f"cannot read the archive {archive}: {exc}") from exc
    with opened:
        for info in opened.infolist():
            name = info.filename.removeprefix("./")
            if not info.is_dir() and wanted(name):
                try:
                    yield name, opened.read(info)
                except _ERRORS as exc:
                    raise DataError(f"the archive {archive} is damaged at {name}: {exc}") from exc
