"""Getting the page images an export names: local files, or downloads that are verified, retried and
done in parallel.

A location is read as:

- an ``http(s)://`` URL: downloaded (:func:`textrec_core.services.download.fetch`: streamed to a
  temporary file, checked against the announced length, renamed into place) into ``cache`` under
  the SHA-256 of the URL, and reused from there on later imports. A failed transfer is tried
  again up to ``retries`` more times, waiting 0.5 s, 1 s, 2 s ... between tries; an HTTP 4xx answer
  is final at once;
- Label Studio's own paths, ``/data/upload/<project>/<file>`` and ``/data/local-files/?d=<path>``:
  ``upload/<project>/<file>`` and ``<path>`` under each of ``roots`` (its media folder, or the
  folder local files are served from);
- anything else: a path, absolute or under each of ``roots`` in turn.

Every image is then decoded to 8-bit gray (:func:`textrec_iam.images.decode_image`). A location that
cannot be had is ``missing_image``, one that does not decode ``unreadable_image``: each with the
reason, never fatal.
"""

from __future__ import annotations

import hashlib
import time
import urllib.error
import urllib.parse
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import attrs
import numpy as np
from tqdm import tqdm

from textrec_core.errors import DataError, DownloadError
from textrec_core.services.download import fetch
from textrec_iam.images import decode_image

FIRST_WAIT_S = 0.5


@attrs.frozen
class PageImage:
    """A page's gray image, or why there is none: ``problem`` (a gate's name) and ``detail``."""

    image: np.ndarray | None
    problem: str | None = None
    detail: str = ""


def load_pages(locations: Sequence[str], *, roots: Sequence[Path], cache: Path, workers: int = 8,
               retries: int = 3, timeout: float = 30) -> dict[str, PageImage]:
    """``{location: PageImage}`` for every distinct location, read ``workers`` at a time with a progress bar."""
    distinct = list(dict.fromkeys(locations))
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        images = pool.map(lambda loc: _load(loc, roots, cache, retries, timeout), distinct)
        return dict(zip(distinct, tqdm(images, total=len(distinct), desc="page images", unit="page", disable=None,
                                       leave=False)))


def _load(location: str, roots: Sequence[Path], cache: Path, retries: int, timeout: float) -> PageImage:
    try:
        file = _download(location, cache, retries, timeout) if _is_url(location) else _local(location, roots)
    except DownloadError as exc:
        return PageImage(None, "missing_image", str(exc))
    if file is None:
        where = f" (looked under {', '.join(map(str, roots))})" if roots else ""
        return PageImage(None, "missing_image", f"{location}: no such file{where}")
    try:
        return PageImage(decode_image(file.read_bytes(), location))
    except (DataError, OSError) as exc:
        return PageImage(None, "unreadable_image", str(exc))


def _is_url(location: str) -> bool:
    return urllib.parse.urlsplit(location).scheme.lower() in ("http", "https")


def _download(url: str, cache: Path, retries: int, timeout: float) -> Path:
    suffix = Path(urllib.parse.urlsplit(url).path).suffix[:8]
    dest = cache / f"{hashlib.sha256(url.encode()).hexdigest()}{suffix}"
    if dest.is_file():
        return dest
    for attempt in range(retries + 1):
        try:
            return fetch(url, dest, sha256=None, desc=Path(urllib.parse.urlsplit(url).path).name, timeout=timeout)
        except DownloadError as exc:
            cause = exc.__cause__
            final = isinstance(cause, urllib.error.HTTPError) and 400 <= cause.code < 500
            if final or attempt == retries:
                raise
            time.sleep(FIRST_WAIT_S * 2**attempt)
    raise AssertionError("unreachable")


def _local(location: str, roots: Sequence[Path]) -> Path | None:
    parts = urllib.parse.urlsplit(location)
    if parts.path.startswith("/data/local-files/"):
        relative = urllib.parse.parse_qs(parts.query).get("d", [""])[0]
    elif parts.path.startswith("/data/upload/"):
        relative = urllib.parse.unquote(parts.path[len("/data/"):])
    else:
        relative = urllib.parse.unquote(parts.path) if parts.scheme == "file" else location
        if Path(relative).is_absolute() and Path(relative).is_file():
            return Path(relative)
    for root in roots:
        candidate = Path(root) / relative.lstrip("/")
        if candidate.is_file():
            return candidate
    return None
