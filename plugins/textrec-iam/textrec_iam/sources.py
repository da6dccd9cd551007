"""Choosing where IAM's lines come from, first match wins:

1. ``path`` (``dataset_args.path``), read in place: a folder in IAM's layout (``ascii/lines.txt``
   and ``lines/``); a folder holding the official archives ``ascii.tgz`` and ``lines.tgz``; a folder
   holding ``xml.tgz`` and the form scans' archives ``forms*.tgz``; a folder holding the FSDL
   repackaging ``iamdb.zip``; or a folder with an ``xml/`` folder of form XML and the form scans
   somewhere below it (either archive extracted). The last three crop each line from its form
   (:mod:`textrec_iam.form_store`).
2. The data mirror, when ``TEXTREC_DATA_MIRROR`` is set, into ``$TEXTREC_DATA_DIR/iam/``:
   ``<mirror>/iam/ascii.tgz`` and ``lines.tgz`` verified against ``<mirror>/iam/SHA256SUMS``
   (``source: "official"``), or ``<mirror>/iam/iamdb.zip`` verified against
   :data:`FSDL_SHA256` (``source: "fsdl"``).
3. The host: FKI with the user's credentials (:mod:`textrec_iam.official`) for ``"official"``;
   :data:`~textrec_iam.official.FSDL_URL`, verified against :data:`FSDL_SHA256`, for ``"fsdl"``
   (a host that has been unreachable for some users: its failure is a DataError naming the
   alternatives).
"""

from __future__ import annotations

from pathlib import Path

from textrec_core.errors import ChecksumError, DataError, DownloadError
from textrec_core.services.download import data_dir, data_mirror, fetch, join_source, parse_sha256sums, read_source
from textrec_iam.form_store import FormStore
from textrec_iam.official import FSDL_URL, download_official
from textrec_iam.stores import ArchiveStore, FolderStore, LineStore

ARCHIVES = ["ascii.tgz", "lines.tgz"]
FSDL_ARCHIVE = "iamdb.zip"
#: The SHA-256 of :data:`~textrec_iam.official.FSDL_URL` (../shared/docs/iam-format.md).
FSDL_SHA256 = "f3c9e87a88a313e557c6d3548ed8a2a1af2dc3c4a678c5f3fc6f972ba4a50c55"
SOURCES = ("official", "fsdl")


def locate(path: str | None, source: str = "official", *, timeout: float = 60, fsdl_url: str = FSDL_URL,
           fsdl_sha256: str = FSDL_SHA256) -> LineStore:
    """The store to read IAM's lines from, fetching archives when needed (see the module docstring)."""
    if path is not None:
        return _local(Path(path).expanduser())
    cache = data_dir() / "iam"
    mirror = data_mirror()
    if source == "fsdl":
        origin = join_source(mirror, "iam", FSDL_ARCHIVE) if mirror is not None else fsdl_url
        try:
            zipped = fetch(origin, cache / FSDL_ARCHIVE, sha256=fsdl_sha256, desc=f"IAM {FSDL_ARCHIVE}",
                           timeout=timeout)
        except ChecksumError:
            raise
        except DownloadError as exc:
            raise DataError(f"the FSDL repackaging of IAM could not be fetched from {origin} ({exc}). It has been "
                            "unreachable for some users; use source 'official' with your FKI registration, or pass "
                            "a folder holding IAM's files as dataset_args.path") from exc
        return FormStore([zipped], [zipped])
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
    scans = sorted(root.glob("forms*.tgz"))
    if (root / "xml.tgz").is_file() and scans:
        return FormStore([root / "xml.tgz"], scans)
    if (root / FSDL_ARCHIVE).is_file():
        return FormStore([root / FSDL_ARCHIVE], [root / FSDL_ARCHIVE])
    if any(folder.is_dir() for folder in root.glob("**/xml")):
        return FormStore([root], [root])
    raise DataError(f"dataset_args.path {str(root)!r} is neither a folder in IAM's layout (ascii/lines.txt with "
                    "lines/<a01>/<a01-000u>/<line id>.png) nor a folder holding IAM's ascii.tgz and lines.tgz, "
                    f"xml.tgz and forms*.tgz, {FSDL_ARCHIVE}, or an xml/ folder with the form scans")


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
