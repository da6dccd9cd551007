"""Locating, fetching and verifying the EMNIST IDX files of a split.

Files are cached under ``data_dir()/emnist/`` with their archive member names
(``gzip/emnist-{split}-{train,test}-{images-idx3,labels-idx1}-ubyte.gz``) and come from one of:

- the data mirror, when ``TEXTREC_DATA_MIRROR`` is set: each file from
  ``<mirror>/emnist/gzip/<member>``, verified against ``<mirror>/emnist/SHA256SUMS``
  (``<digest>  gzip/<member>`` lines; the mirror's files may differ from the official ones);
- otherwise NIST's official ``gzip.zip`` (about 535 MB): it is downloaded into a temporary
  directory beside the cache, the split's four members are extracted and verified against the
  published sizes and digests in :data:`OFFICIAL_MEMBERS`, and the archive is deleted -- the
  cache keeps only the files textrec reads, at the price of downloading the archive again for
  another split.

A cached file is re-hashed on every call (a fraction of a second per hundred megabytes) and
verified against the source in use; one that does not match -- corrupt, or from the other
source -- is fetched again rather than reported.
"""

from __future__ import annotations

import string
import tempfile
import zipfile
import zlib
from collections.abc import Iterable, Mapping
from pathlib import Path

from textrec_core.errors import ArgumentError, ChecksumError, DataError, DownloadError
from textrec_core.mapping import EMNIST_CHARACTERS
from textrec_core.services.download import (
    data_dir,
    data_mirror,
    fetch,
    join_source,
    parse_sha256sums,
    read_source,
    save_stream,
    verify_file,
)

ARCHIVE_URL = "https://biometrics.nist.gov/cs_links/EMNIST/gzip.zip"
SPLITS = ("balanced", "byclass", "bymerge", "digits", "letters", "mnist")
PARTS = ("train-images", "train-labels", "test-images", "test-labels")

#: Archive member -> (size in bytes, SHA-256) of the official ``gzip.zip`` members.
OFFICIAL_MEMBERS: dict[str, tuple[int, str]] = {
    "gzip/emnist-balanced-test-images-idx3-ubyte.gz": (
        4714707, "117fc12b015e37ea98bfb2cbba3f77c3782c056cdbd219b87abfc8661d7135db"),
    "gzip/emnist-balanced-test-labels-idx1-ubyte.gz": (
        13504, "a67cac948379b67270b9a4d0a01c8ec661598accf2f2b1964340b7c83cb175cd"),
    "gzip/emnist-balanced-train-images-idx3-ubyte.gz": (
        28207740, "74295e75e4e9fa2c102147460ee7eb763653d5132d883a84fb88932bfb8d2db4"),
    "gzip/emnist-balanced-train-labels-idx1-ubyte.gz": (
        80618, "b46d41e5156a0a8aaaa4d18979fdd1588850fa8571018acffd5d93b325a7d6ed"),
    "gzip/emnist-byclass-test-images-idx3-ubyte.gz": (
        28908322, "5ec835bd5d5b1a66378a132e727fef20fe994b3cc666899befcca5ac766f50cd"),
    "gzip/emnist-byclass-test-labels-idx1-ubyte.gz": (
        81839, "501e305eeeacb093b162592d80e8a2632040872360fa6d85cfcb2200d91ca92a"),
    "gzip/emnist-byclass-train-images-idx3-ubyte.gz": (
        173367313, "9e21987f03a6eb8b870187e785883ddad96947299587908f1a7ec2ca0f4be5f0"),
    "gzip/emnist-byclass-train-labels-idx1-ubyte.gz": (
        491603, "f7ef403d48dc18a89dae0d83d11ee69cecb6e1c12c3a961d03712e495c02a8fa"),
    "gzip/emnist-bymerge-test-images-idx3-ubyte.gz": (
        28905295, "5e5815ec1b522089134435f7c55e75a00960b58414793593ffff23efc0821683"),
    "gzip/emnist-bymerge-test-labels-idx1-ubyte.gz": (
        79351, "8bda1516255683ba9071e141947ca0c91a911176065cdd6259b0b4d8dc5b5f35"),
    "gzip/emnist-bymerge-train-images-idx3-ubyte.gz": (
        173375281, "39bf8c68037dad40db35348895f7e4e056e8c0a005ab78869c9fbc2c96e947be"),
    "gzip/emnist-bymerge-train-labels-idx1-ubyte.gz": (
        476444, "2c47293b9e62d6abf6ad05fbf67e40baa32adfd380b8d7b44dcc35534b64e1f1"),
    "gzip/emnist-digits-test-images-idx3-ubyte.gz": (
        9908519, "20ebe43509264f7639d37c835a3f0b009e90b29e00a099a03101abe1644a3f63"),
    "gzip/emnist-digits-test-labels-idx1-ubyte.gz": (
        19960, "bad1834c45d5988e270b99d43b13edc3fd898f658ffbc2caf2846ef27f7b05b0"),
    "gzip/emnist-digits-train-images-idx3-ubyte.gz": (
        59515779, "f7c95004d14d81af89522e67d8f0c781dfb3bd544181c81bfe1eb6b41c35b726"),
    "gzip/emnist-digits-train-labels-idx1-ubyte.gz": (
        113859, "6638a6ff5fe2eefd9cca2471995b46c82986b8e4b2a70d2f5ce8e05d7edb319e"),
    "gzip/emnist-letters-test-images-idx3-ubyte.gz": (
        5039157, "50f0e93d75b99b463e9760b8345866f22587fa2c2fba472730a5ba09c693412d"),
    "gzip/emnist-letters-test-labels-idx1-ubyte.gz": (
        144, "924955c31fe7fd809b7303b5c0141282955f4b8390c74cdfd5d80435e0f4b4cb"),
    "gzip/emnist-letters-train-images-idx3-ubyte.gz": (
        30804864, "6288f418a917e007bf5fddb823a2dc7a5c6a35031401b93292a539cb12bd881f"),
    "gzip/emnist-letters-train-labels-idx1-ubyte.gz": (
        79283, "9759af91ea6bccdf07a6040fd085861f2ec88e37f7c3f5760f6feb57106fbe5c"),
    "gzip/emnist-mnist-test-images-idx3-ubyte.gz": (
        2484884, "b25640fa9e356c618132f5df347c95ef5bae6d9c2596be1de40f7e0ae1c3eac6"),
    "gzip/emnist-mnist-test-labels-idx1-ubyte.gz": (
        5144, "bcc5385d38f083dba046f5f756e99b32f5ea7fad122c6243c71c2239873065ca"),
    "gzip/emnist-mnist-train-images-idx3-ubyte.gz": (
        14873795, "5f9942f441031c0f1f2e4d162059fd6e19ea808b34c328b6d16cab0ed24c78f2"),
    "gzip/emnist-mnist-train-labels-idx1-ubyte.gz": (
        29480, "00c6d3c2342fdffb1711e0b5656cac4ce5862d2826399d383a9bac07d612e9f8"),
}

_BALANCED = string.digits + string.ascii_uppercase + "abdefghnqrt"
#: Split -> the character of each label, as the distribution's ``emnist-{split}-mapping.txt`` files
#: fix them. ``letters`` labels run from 1 to 26 and each stands for a letter in either case.
_CHARACTERS: dict[str, tuple[str, ...]] = {
    "balanced": tuple(_BALANCED),
    "byclass": EMNIST_CHARACTERS,
    "bymerge": tuple(_BALANCED),
    "digits": tuple(string.digits),
    "letters": ("<unused>", *string.ascii_uppercase),
    "mnist": tuple(string.digits),
}


def member_name(split: str, part: str) -> str:
    """The archive member holding ``part`` (one of :data:`PARTS`) of ``split`` (one of :data:`SPLITS`),
    e.g. ``gzip/emnist-byclass-test-images-idx3-ubyte.gz``. An unknown split raises :class:`ArgumentError`
    naming ``split`` (as :func:`split_characters` does), an unknown part ``ValueError``."""
    _check_split(split)
    if part not in PARTS:
        raise ValueError(f"unknown EMNIST file {part!r}; expected one of {', '.join(PARTS)}")
    kind = "idx3" if part.endswith("images") else "idx1"
    return f"gzip/emnist-{split}-{part}-{kind}-ubyte.gz"


def split_characters(split: str) -> tuple[str, ...]:
    """The character each label of ``split`` stands for, by label index.

    The mapping of each split is fixed by the distribution, so it is built in rather than read
    from ``emnist-{split}-mapping.txt``. ``letters`` labels run from 1 (``A``/``a``) to 26
    (``Z``/``z``), so index 0 is the placeholder ``<unused>``. Raises :class:`ArgumentError` for
    an unknown split.
    """
    _check_split(split)
    return _CHARACTERS[split]


def ensure_members(
    split: str,
    *,
    parts: Iterable[str] = PARTS,
    archive_url: str = ARCHIVE_URL,
    checksums: Mapping[str, tuple[int, str]] = OFFICIAL_MEMBERS,
    timeout: float = 60,
) -> dict[str, Path]:
    """Local, verified copies of ``parts`` of ``split``: ``{part: path}``, fetched when needed.

    Uses the data mirror when ``TEXTREC_DATA_MIRROR`` is set; otherwise the archive at
    ``archive_url``, whose members' ``(size, sha256)`` are ``checksums`` (tests pass their own).
    Raises :class:`DataError` when the mirror lacks its ``SHA256SUMS`` or a file, or the archive
    lacks a member or is corrupt; :class:`DownloadError` or :class:`ChecksumError` as
    :func:`~textrec_core.services.download.fetch` does. Files that fail verification never land in the cache.
    """
    names = {part: member_name(split, part) for part in parts}
    root = data_dir() / "emnist"
    mirror = data_mirror()
    if mirror is not None:
        _fetch_from_mirror(mirror, split, names.values(), root, timeout)
    elif not all(_is_cached(root, name, checksums) for name in names.values()):
        # The archive is deleted afterwards, so extract all of the split's stale members while it is here.
        every_part = (member_name(split, part) for part in PARTS)
        stale = [name for name in every_part if not _is_cached(root, name, checksums)]
        _extract_from_archive(archive_url, stale, root, checksums, timeout)
    return {part: root / name for part, name in names.items()}


def _check_split(split: str) -> None:
    """Raise :class:`ArgumentError` naming ``split`` unless it is one of :data:`SPLITS`."""
    if split not in SPLITS:
        raise ArgumentError("split", f"unknown EMNIST split {split!r}; expected one of {', '.join(SPLITS)}")


def _is_cached(root: Path, name: str, checksums: Mapping[str, tuple[int, str]]) -> bool:
    """Whether ``root/name`` holds the member with the size and digest ``checksums`` lists."""
    if name not in checksums:
        raise DataError(f"no published size and SHA-256 for the EMNIST member {name}")
    size, digest = checksums[name]
    return verify_file(root / name, sha256=digest, size=size)


def _fetch_from_mirror(mirror: str, split: str, names: Iterable[str], root: Path, timeout: float) -> None:
    """Fetch each member from the mirror, verified against the mirror's ``emnist/SHA256SUMS``."""
    sums_source = join_source(mirror, "emnist", "SHA256SUMS")
    try:
        sums = parse_sha256sums(read_source(sums_source, timeout=timeout).decode("utf-8"), origin=sums_source)
    except (DownloadError, UnicodeDecodeError) as exc:
        raise DataError(f"cannot read the EMNIST checksum list of the data mirror: {exc}") from exc
    for name in names:
        if name not in sums:
            raise DataError(f"{sums_source} does not list {name}: the data mirror {mirror} "
                            f"does not provide the EMNIST split {split!r}")
        fetch(join_source(mirror, "emnist", name), root / name, sha256=sums[name], desc=Path(name).name,
              timeout=timeout)


def _extract_from_archive(
    url: str, names: Iterable[str], root: Path, checksums: Mapping[str, tuple[int, str]], timeout: float
) -> None:
    """Download the archive at ``url`` into a temporary directory, extract and verify ``names``
    into ``root``, and delete the archive (also on failure)."""
    root.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=root, prefix=".archive-") as tmp:
        archive = fetch(url, Path(tmp) / "gzip.zip", sha256=None, desc="EMNIST gzip.zip", timeout=timeout)
        try:
            with zipfile.ZipFile(archive) as zf:
                for name in names:
                    _extract_member(zf, name, root / name, checksums[name], url)
        except (zipfile.BadZipFile, zlib.error, EOFError) as exc:
            raise DataError(f"the EMNIST archive {url} is corrupt: {exc}") from exc


def _extract_member(zf: zipfile.ZipFile, name: str, dest: Path, checksum: tuple[int, str], url: str) -> None:
    """Extract member ``name`` to ``dest`` if its size and SHA-256 match ``checksum``."""
    size, digest = checksum
    try:
        info = zf.getinfo(name)
    except KeyError:
        raise DataError(f"the EMNIST archive {url} has no member {name}") from None
    if info.file_size != size:
        raise ChecksumError(f"size mismatch for {name} in {url}: expected {size} bytes, got {info.file_size}")
    with zf.open(info) as member:
        save_stream(member, dest, source=f"{name} in {url}", sha256=digest, length=size, desc=Path(name).name)
