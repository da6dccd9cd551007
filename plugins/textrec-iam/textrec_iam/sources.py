"""Choosing where IAM's lines come from, first match wins:

1. ``path`` (``dataset_args.path``): a folder in IAM's layout (``ascii/lines.txt`` and ``lines/``),
   or a folder holding the official archives ``ascii.tgz`` and ``lines.tgz``, read in place;
2. the data mirror, when ``TEXTREC_DATA_MIRROR`` is set: ``<mirror>/iam/ascii.tgz`` and
   ``<mirror>/iam/lines.tgz``, verified against ``<mirror>/iam/SHA256SUMS`` and copied into
   ``$TEXTREC_DATA_DIR/iam/``;
3. the official host with the user's credentials (:mod:`textrec_iam.official`), into the same
   cache folder.
"""

from __future__ import annotations

from pathlib import Path

from textrec_core.errors import DataError, DownloadError
from textrec_core.services.download import data_dir, data_mirror, fetch, join_source, parse_sha256sums, read_source
from textrec_iam.official import download_official
from textrec_iam.stores import ArchiveStore, FolderStore, LineStore

ARCHIVES = ["ascii.tgz", "lines.tgz"]


def locate(path: str | None, *, timeout: float = 60) -> LineStore:
    """The store to read IAM's lines from, fetching the archives when needed (see the module docstring)."""
    if path is not None:
        return _local(Path(path).expanduser())
    cache = data_dir() / "iam"
    mirror = data_mirror()
    if mirror is not None:
        _fetch_from_mirror(mirror, cache, timeout)
    else:
        download_official(ARCHIVES, cache, timeout=timeout)
    return ArchiveStore(cache / "ascii.tgz", cache / "lines.tgz")


def _local(root: Path) -> LineStore:
    if (root / "ascii" / "lines.txt").is_file():
        return FolderStore(root)
    if all((root / name).is_file() for name in ARCHIVES):
        return ArchiveStore(root / "ascii.tgz", root / "lines.tgz")
    raise DataError(f"dataset_args.path {str(root)!r} is neither a folder in IAM's layout (ascii/lines.txt with "
                    "lines/<a01>/<a01-000u>/<line id>.png) nor a folder holding IAM's ascii.tgz and lines.tgz")


def _fetch_from_mirror(mirror: str, cache: Path, timeout: float) -> None:
    sums_source = join_source(mirror, "iam", "SHA256SUMS")
    try:
        sums = parse_sha256sums(read_source(sums_source, timeout=timeout).decode("utf-8"), origin=sums_source)
    except (DownloadError, UnicodeDecodeError) as exc:
        raise DataError(f"the data mirror {mirror} has no readable IAM checksum list ({exc}); pass IAM's "
                        "folder as dataset_args.path, or unset TEXTREC_DATA_MIRROR to download from the official "
                        "host") from exc
    for name in ARCHIVES:
        if name not in sums:
            raise DataError(f"{sums_source} does not list {name}: the data mirror {mirror} does not provide IAM lines")
        fetch(join_source(mirror, "iam", name), cache / name, sha256=sums[name], desc=f"IAM {name}", timeout=timeout)
