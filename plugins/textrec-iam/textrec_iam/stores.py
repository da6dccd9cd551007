"""Reading IAM's files where they are: a folder in IAM's layout, or the official archives.

A store gives the text of ``lines.txt`` (and of ``forms.txt`` when present), the line images asked
for (grayscale, dark ink on light paper, as IAM's crops are), and a fingerprint that changes when
its files do (the key of the processed cache). An image that cannot be decoded is a
:class:`~textrec_core.errors.DataError` naming it.

- :class:`FolderStore`: ``<root>/ascii/lines.txt``, optional ``<root>/ascii/forms.txt`` and
  ``<root>/lines/<a01>/<a01-000u>/<a01-000u-00>.png``. Its fingerprint hashes ``lines.txt`` and
  ``forms.txt`` and the size and modification time of every image.
- :class:`ArchiveStore`: ``ascii.tgz`` and ``lines.tgz`` as FKI distributes them. ``lines.txt``
  and ``forms.txt`` are found at the archive's top level or under ``ascii/``; an image is found by
  its last three path components (``a01/a01-000u/a01-000u-00.png``), whatever folder the archive
  puts above them. The archive is read in one streaming pass, never extracted to disk. Its
  fingerprint is each archive's resolved path, size and modification time.
- :class:`~textrec_iam.form_store.FormStore`: form XML with the form scans, each line cropped
  from its scan.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Iterator
from pathlib import Path
from typing import Protocol

import numpy as np

from textrec_core.errors import DataError
from textrec_iam.archives import read_members
from textrec_iam.images import decode_image


class LineStore(Protocol):
    """Where IAM's line files are read from."""

    def lines_txt(self) -> list[str]:
        """The text lines of ``lines.txt``."""

    def forms_txt(self) -> list[str] | None:
        """The text lines of ``forms.txt`` (form id, writer id, ...), or None where there is none."""

    def images(self, paths: Collection[str]) -> Iterator[tuple[str, np.ndarray]]:
        """``(path, uint8 grayscale image)`` for each of ``paths`` (``lines/<a01>/<a01-000u>/<id>.png``)
        the store holds, in any order; absent ones are left out."""

    def lines_origin(self) -> str:
        """Where ``lines.txt`` is, for messages."""

    def fingerprint(self) -> str:
        """A digest that changes when the store's files do."""

    def describe(self) -> str:
        """Where the store reads from, for messages."""


def _decode(data: bytes) -> list[str]:
    """The text lines of ``data``: UTF-8 (textrec's own folders, and IAM's ASCII), else ISO-8859-1,
    which reads any byte, so a stray one cannot stop a parse."""
    try:
        return data.decode("utf-8").splitlines()
    except UnicodeDecodeError:
        return data.decode("iso-8859-1").splitlines()


class FolderStore:
    """A folder in IAM's layout (see the module docstring)."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def lines_txt(self) -> list[str]:
        return _decode((self.root / "ascii" / "lines.txt").read_bytes())

    def forms_txt(self) -> list[str] | None:
        forms = self.root / "ascii" / "forms.txt"
        return _decode(forms.read_bytes()) if forms.is_file() else None

    def images(self, paths: Collection[str]) -> Iterator[tuple[str, np.ndarray]]:
        for path in paths:
            file = self.root / path
            if file.is_file():
                yield path, decode_image(file.read_bytes(), f"{path} in {self.root}")

    def lines_origin(self) -> str:
        return str(self.root / "ascii" / "lines.txt")

    def fingerprint(self) -> str:
        digest = hashlib.sha256(str(self.root.resolve()).encode())
        for name in ("lines.txt", "forms.txt"):
            file = self.root / "ascii" / name
            digest.update(file.read_bytes() if file.is_file() else b"-")
        images = self.root / "lines"
        for file in sorted(images.rglob("*.png")) if images.is_dir() else ():
            stat = file.stat()
            digest.update(f"{file.relative_to(self.root)} {stat.st_size} {stat.st_mtime_ns}\n".encode())
        return digest.hexdigest()

    def describe(self) -> str:
        return str(self.root)


class ArchiveStore:
    """FKI's ``ascii.tgz`` and ``lines.tgz`` (see the module docstring)."""

    def __init__(self, ascii_archive: Path, lines_archive: Path) -> None:
        self.ascii_archive = Path(ascii_archive)
        self.lines_archive = Path(lines_archive)

    def lines_txt(self) -> list[str]:
        lines = self._ascii_member("lines.txt")
        if lines is None:
            raise DataError(f"{self.ascii_archive} has no lines.txt (expected at its top level or under ascii/)")
        return lines

    def forms_txt(self) -> list[str] | None:
        return self._ascii_member("forms.txt")

    def images(self, paths: Collection[str]) -> Iterator[tuple[str, np.ndarray]]:
        wanted = {_image_key(path): path for path in paths}
        for name, data in read_members(self.lines_archive, lambda name: _image_key(name) in wanted):
            path = wanted[_image_key(name)]
            yield path, decode_image(data, f"{path} in {self.lines_archive}")

    def lines_origin(self) -> str:
        return f"lines.txt in {self.ascii_archive}"

    def fingerprint(self) -> str:
        digest = hashlib.sha256()
        for archive in (self.ascii_archive, self.lines_archive):
            stat = archive.stat()
            digest.update(f"{archive.resolve()} {stat.st_size} {stat.st_mtime_ns}\n".encode())
        return digest.hexdigest()

    def describe(self) -> str:
        return f"{self.ascii_archive} and {self.lines_archive}"

    def _ascii_member(self, name: str) -> list[str] | None:
        for _, data in read_members(self.ascii_archive, lambda member: member in (name, f"ascii/{name}")):
            return _decode(data)
        return None


def _image_key(path: str) -> str:
    """The last three components of an image path: ``a01/a01-000u/a01-000u-00.png``."""
    return "/".join(path.replace("\\", "/").split("/")[-3:])
