"""Fetching data files: verified, atomic copies from a path, a ``file://`` URL or an HTTP(S) URL.

A file lands at its destination only after all of its bytes arrived and matched the expected
SHA-256 digest (and size). Bytes are streamed into a temporary file beside the destination and
renamed into place (:func:`~textrec_core.services.fileio.atomic_write`); any failure or interruption,
``KeyboardInterrupt`` included, deletes that temporary file, so a destination directory never
holds a partial file.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import re
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

import platformdirs
from tqdm import tqdm

from textrec_core.errors import ChecksumError, DataError, DownloadError
from textrec_core.services.fileio import atomic_write

CHUNK_SIZE = 1 << 20
_URL_SCHEMES = ("http", "https", "file")
_SHA256SUMS_LINE = re.compile(r"([0-9a-fA-F]{64}) [ *](.+)")


def data_dir() -> Path:
    """The directory datasets are cached in: ``$TEXTREC_DATA_DIR``, else the user cache directory."""
    configured = os.environ.get("TEXTREC_DATA_DIR")
    return Path(configured).expanduser() if configured else Path(platformdirs.user_cache_dir("textrec"))


def data_mirror() -> str | None:
    """``$TEXTREC_DATA_MIRROR`` (a directory, a ``file://`` URL or an HTTP(S) base URL), or None."""
    return os.environ.get("TEXTREC_DATA_MIRROR") or None


def join_source(base: str, *parts: str) -> str:
    """The location of ``parts`` (relative, ``/``-separated) under a directory or URL ``base``."""
    if _is_url(base):
        return "/".join([base.rstrip("/"), *(urllib.parse.quote(part.strip("/")) for part in parts)])
    return str(Path(base, *parts))


def sha256_file(path: str | os.PathLike[str]) -> str:
    """The lower-case hex SHA-256 digest of the file at ``path``."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK_SIZE):
            digest.update(chunk)
    return digest.hexdigest()


def verify_file(path: Path, *, sha256: str, size: int | None = None) -> bool:
    """Whether ``path`` exists with this SHA-256 digest (and size). Re-hashes the whole file."""
    try:
        if size is not None and path.stat().st_size != size:
            return False
        return sha256_file(path) == sha256.lower()
    except FileNotFoundError:
        return False


def parse_sha256sums(text: str, *, origin: str = "checksum list") -> dict[str, str]:
    """``{path: lower-case digest}`` from ``sha256sum`` output (``<digest>  <path>`` or ``<digest> *<path>``).

    Paths are kept relative, with a leading ``./`` stripped; blank lines are skipped. A malformed
    line, or a path listed twice with different digests, raises :class:`DataError` naming ``origin``.
    """
    sums: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        match = _SHA256SUMS_LINE.fullmatch(line)
        if match is None:
            raise DataError(f"{origin}, line {number}: expected '<sha256>  <path>', got {line!r}")
        digest, path = match.group(1).lower(), match.group(2)
        while path.startswith("./"):
            path = path[2:]
        if sums.setdefault(path, digest) != digest:
            raise DataError(f"{origin}: {path} is listed twice with different digests")
    return sums


def fetch(
    source: str,
    dest: Path,
    *,
    sha256: str | None,
    size: int | None = None,
    desc: str | None = None,
    timeout: float = 60,
) -> Path:
    """Copy ``source`` (a local path, a ``file://`` or an HTTP(S) URL) to ``dest`` and return ``dest``.

    If ``dest`` already holds the expected bytes it is returned untouched; otherwise it is
    (re)fetched and replaced. ``sha256=None`` skips the digest check (and always fetches).
    Raises :class:`DownloadError` when the source cannot be read or the transfer is incomplete,
    :class:`ChecksumError` when the bytes differ from ``sha256`` or ``size``; either way no
    partial file is left. ``timeout`` (seconds) applies to each network operation.
    """
    dest = Path(dest)
    if sha256 is not None and verify_file(dest, sha256=sha256, size=size):
        return dest
    stream, length = _open(source, timeout)
    with stream:
        return save_stream(stream, dest, source=source, sha256=sha256, size=size, length=length, desc=desc)


def read_source(source: str, *, timeout: float = 60) -> bytes:
    """The content of a small file (a checksum list) at a path or URL; raises as :func:`fetch` does."""
    stream, length = _open(source, timeout)
    with stream:
        data = b"".join(_chunks(stream, source))
    _check_length(source, len(data), length, None)
    return data


def save_stream(
    stream: BinaryIO,
    dest: Path,
    *,
    source: str,
    sha256: str | None,
    size: int | None = None,
    length: int | None = None,
    desc: str | None = None,
) -> Path:
    """Write ``stream`` to ``dest`` atomically, verified as :func:`fetch` describes; returns ``dest``.

    ``source`` names the stream in messages; ``length`` is its announced length (a
    Content-Length), used to detect truncation and to size the progress bar.
    """

    def write(tmp: Path) -> None:
        digest, received = hashlib.sha256(), 0
        with open(tmp, "wb") as out, _progress(desc or Path(dest).name, size or length) as progress:
            for chunk in _chunks(stream, source):
                out.write(chunk)
                digest.update(chunk)
                received += len(chunk)
                progress.update(len(chunk))
        _check_length(source, received, length, size)
        actual = digest.hexdigest()
        if sha256 is not None and actual != sha256.lower():
            expected = sha256.lower()
            raise ChecksumError(f"checksum mismatch for {source}: expected SHA-256 {expected}, got {actual}")

    return atomic_write(Path(dest), write)


def _progress(desc: str, total: int | None) -> tqdm:
    """A byte-counting progress bar, shown only on a terminal."""
    return tqdm(desc=desc, total=total, unit="B", unit_scale=True, unit_divisor=1024, disable=None, leave=False)


def _is_url(source: str) -> bool:
    return urllib.parse.urlsplit(source).scheme.lower() in _URL_SCHEMES


def _mirror_hint() -> str:
    mirror = data_mirror()
    if mirror is None:
        return "If it stays unavailable, set TEXTREC_DATA_MIRROR to a directory or URL holding a copy."
    return f"Check TEXTREC_DATA_MIRROR (currently {mirror})."


def _open(source: str, timeout: float) -> tuple[BinaryIO, int | None]:
    """``source`` opened for reading, and its announced length in bytes (None when unknown)."""
    scheme = urllib.parse.urlsplit(source).scheme.lower()
    if scheme in ("http", "https"):
        request = urllib.request.Request(source, headers={"User-Agent": "textrec"})
        try:
            response = urllib.request.urlopen(request, timeout=timeout)
        except urllib.error.HTTPError as exc:
            exc.close()
            message = f"cannot download {source}: HTTP {exc.code} {exc.reason}"
            raise DownloadError(f"{message}. {_mirror_hint()}") from exc
        except (OSError, http.client.HTTPException) as exc:  # URLError is an OSError
            reason = getattr(exc, "reason", exc)
            raise DownloadError(f"cannot reach {source}: {reason}. {_mirror_hint()}") from exc
        length = response.headers.get("Content-Length", "")
        return response, int(length) if length.isdigit() else None
    path = urllib.request.url2pathname(urllib.parse.urlsplit(source).path) if scheme == "file" else source
    try:
        stream = open(path, "rb")
    except OSError as exc:
        raise DownloadError(f"cannot read {source}: {exc.strerror or exc}") from exc
    return stream, os.fstat(stream.fileno()).st_size


def _chunks(stream: BinaryIO, source: str) -> Iterator[bytes]:
    """The bytes of ``stream`` in chunks; a failing read raises :class:`DownloadError`."""
    while True:
        try:
            chunk = stream.read(CHUNK_SIZE)
        except (OSError, http.client.HTTPException) as exc:  # resets, timeouts, IncompleteRead
            raise DownloadError(f"incomplete transfer of {source}: interrupted ({exc!r})") from exc
        if not chunk:
            return
        yield chunk


def _check_length(source: str, received: int, length: int | None, size: int | None) -> None:
    """Raise :class:`DownloadError` if fewer bytes arrived than announced or expected, and
    :class:`ChecksumError` if more arrived than ``size``."""
    expected = max(n for n in (length, size, 0) if n is not None)
    if received < expected:
        raise DownloadError(f"incomplete transfer of {source}: truncated at {received} of {expected} bytes")
    if size is not None and received != size:
        raise ChecksumError(f"size mismatch for {source}: expected {size} bytes, got {received}")
