"""A dataset version's ``metadata.toml``: what it is, where it came from, and a digest of every file.

Keys: ``format`` (``"textrec-dataset"``), ``format_version``, ``name``, ``version`` (1, 2, ...),
``previous`` (the version it was compared with, absent for the first), ``created`` (UTC, ISO 8601),
``alphabet`` (the characters of its texts), and the tables ``source`` (``export``: the path
imported, ``format``, ``sha256`` of the export file, ``image_roots``), ``counts`` (pages, lines,
train, val, test, unlabeled, excluded), ``changes`` (added, removed, relabeled against ``previous``),
``gates`` (excluded regions per gate; ``gate_examples`` where), ``manifest`` (``sha256``: the
SHA-256 of the manifest text, ``files``: how many) and ``files`` (relative path -> SHA-256).

The manifest text is ``sha256sum``'s format: ``<digest>  <path>`` a line, sorted by path, over every
file of the version but ``metadata.toml`` itself. :func:`verify` recomputes all of it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs
import tomli_w

from textrec_core.services.download import sha256_file
from textrec_core.services.fileio import atomic_write
from textrec_iam.layout import METADATA_FILE, read_metadata

FORMAT = "textrec-dataset"
FORMAT_VERSION = 1


def file_digests(folder: Path) -> dict[str, str]:
    """``{relative path: SHA-256}`` of every file under ``folder`` but ``metadata.toml``, sorted by path."""
    folder = Path(folder)
    files = sorted(p for p in folder.rglob("*") if p.is_file() and p.relative_to(folder).as_posix() != METADATA_FILE)
    return {p.relative_to(folder).as_posix(): sha256_file(p) for p in files}


def manifest_digest(digests: Mapping[str, str]) -> str:
    """The SHA-256 of the manifest text of ``digests`` (see the module docstring)."""
    text = "".join(f"{digest}  {path}\n" for path, digest in sorted(digests.items()))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def write_metadata(folder: Path, fields: Mapping[str, Any]) -> dict[str, Any]:
    """Write ``folder/metadata.toml``: ``fields`` with ``format``, the manifest and the file digests
    added (computed now, over the folder as it is); return what was written."""
    digests = file_digests(folder)
    document = {"format": FORMAT, "format_version": FORMAT_VERSION, **fields,
                "manifest": {"sha256": manifest_digest(digests), "files": len(digests)}, "files": digests}
    text = tomli_w.dumps(document)
    atomic_write(Path(folder) / METADATA_FILE, lambda tmp: tmp.write_text(text, encoding="utf-8"))
    return document


@attrs.frozen
class Verification:
    """What :func:`verify` found: files whose digest differs, files listed but absent, files present
    but not listed, and whether the recorded manifest digest matches the recorded file digests."""

    changed: list[str]
    missing: list[str]
    unexpected: list[str]
    manifest_ok: bool

    @property
    def ok(self) -> bool:
        return not (self.changed or self.missing or self.unexpected) and self.manifest_ok


def read_version(folder: Path) -> dict[str, Any]:
    """The metadata of the dataset version at ``folder``; ``ValueError`` saying why when it is none."""
    metadata = read_metadata(Path(folder))
    if metadata is None:
        raise ValueError(f"{folder} is not a textrec dataset version (no {METADATA_FILE})")
    if metadata.get("format") != FORMAT or not isinstance(metadata.get("files"), dict):
        raise ValueError(f"{Path(folder) / METADATA_FILE} is not a textrec dataset's metadata "
                         f"(format {metadata.get('format')!r}, expected {FORMAT!r} with a [files] table)")
    return metadata


def verify(folder: Path) -> Verification:
    """Recompute every digest of the version at ``folder`` against its metadata (see :func:`read_version`)."""
    metadata = read_version(folder)
    recorded: dict[str, str] = metadata["files"]
    actual = file_digests(folder)
    return Verification(
        changed=sorted(p for p in recorded.keys() & actual.keys() if recorded[p] != actual[p]),
        missing=sorted(recorded.keys() - actual.keys()),
        unexpected=sorted(actual.keys() - recorded.keys()),
        manifest_ok=manifest_digest(recorded) == metadata.get("manifest", {}).get("sha256"),
    )
