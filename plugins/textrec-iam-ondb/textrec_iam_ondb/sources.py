"""Where IAM-OnDB's two archives come from: a local folder, the data mirror, or the official host.

IAM-OnDB (Liwicki and Bunke, ICDAR 2005) is free for non-commercial research after registering
with its publishers, the FKI group (https://fki.tic.heia-fr.ch/register; formerly at the
University of Bern, www.fki.inf.unibe.ch). The official host serves the archives at
``https://fki.tic.heia-fr.ch/DBs/iamOnDB/data/<name>`` behind **HTTP Basic authentication**
with the registered user name and password: a request without (or with wrong) credentials is
answered ``401 Unauthorized``, which is how ``wget --user U --password P URL`` and
``curl -u U:P -O URL`` download them. textrec reads the credentials from
``TEXTREC_IAM_ONDB_USER`` and ``TEXTREC_IAM_ONDB_PASSWORD`` and sends them in an
``Authorization: Basic`` header (over HTTPS; never logged, never stored).

Sources, first match wins (:func:`locate`):

1. ``path`` (``dataset_args.path``): a folder holding ``lineStrokes-all.tar.gz`` and
   ``ascii-all.tar.gz``, or the extracted ``lineStrokes/`` and ``ascii/`` folders. Read in place.
2. ``$TEXTREC_DATA_MIRROR/iam-ondb/``: both archives verified against that folder's
   ``SHA256SUMS`` and copied atomically into ``data_dir()/iam_ondb/`` by the core's ``fetch``.
3. The official host, with the credentials above. No digests are published for the official
   archives, so a download is accepted when every announced byte arrived; it is written
   atomically (the core's ``save_stream``) and kept in ``data_dir()/iam_ondb/``, where later
   runs find it. Missing credentials raise :class:`DataError` saying how to register and what
   to set; a ``401`` raises :class:`DownloadError` saying the credentials were refused. Nothing
   partial is left behind either way.
"""

from __future__ import annotations

import base64
import http.client
import os
import urllib.error
import urllib.request
from pathlib import Path

import attrs

from textrec_core.errors import DataError, DownloadError
from textrec_core.services.download import (
    data_dir,
    data_mirror,
    fetch,
    join_source,
    parse_sha256sums,
    read_source,
    save_stream,
)

STROKES_ARCHIVE = "lineStrokes-all.tar.gz"
ASCII_ARCHIVE = "ascii-all.tar.gz"
ARCHIVES = (STROKES_ARCHIVE, ASCII_ARCHIVE)
OFFICIAL_URL = "https://fki.tic.heia-fr.ch/DBs/iamOnDB/data"
REGISTER_URL = "https://fki.tic.heia-fr.ch/register"
USER_VARIABLE = "TEXTREC_IAM_ONDB_USER"
PASSWORD_VARIABLE = "TEXTREC_IAM_ONDB_PASSWORD"


@attrs.frozen
class Source:
    """The data to parse: ``kind`` ``"archives"`` (``strokes``/``ascii`` are the two tar.gz files)
    or ``"folders"`` (the extracted ``lineStrokes/`` and ``ascii/`` folders); ``digests`` maps each
    archive name to its SHA-256 where the source published one (the mirror)."""

    kind: str
    strokes: Path
    ascii: Path
    digests: dict[str, str] = attrs.field(factory=dict)


def local_source(path: Path) -> Source | None:
    """The data in folder ``path`` (archives preferred over extracted folders), or None if it has neither."""
    if all((path / name).is_file() for name in ARCHIVES):
        return Source("archives", path / STROKES_ARCHIVE, path / ASCII_ARCHIVE)
    if (path / "lineStrokes").is_dir() and (path / "ascii").is_dir():
        return Source("folders", path / "lineStrokes", path / "ascii")
    return None


def locate(path: str | None, *, timeout: float = 60) -> Source:
    """The IAM-OnDB data from the first available source (see the module docstring); the official
    host is :data:`OFFICIAL_URL`, read at each call."""
    if path is not None:
        source = local_source(Path(path))
        if source is None:
            raise DataError(f"{path} holds neither {' and '.join(ARCHIVES)} nor the extracted lineStrokes/ and "
                            f"ascii/ folders of IAM-OnDB")
        return source
    root = data_dir() / "iam_ondb"
    mirror = data_mirror()
    if mirror is not None:
        return _from_mirror(mirror, root, timeout)
    return Source("archives", *(download_official(name, root / name, OFFICIAL_URL, timeout) for name in ARCHIVES))


def _from_mirror(mirror: str, root: Path, timeout: float) -> Source:
    sums_source = join_source(mirror, "iam-ondb", "SHA256SUMS")
    try:
        sums = parse_sha256sums(read_source(sums_source, timeout=timeout).decode("utf-8"), origin=sums_source)
    except (DownloadError, UnicodeDecodeError) as exc:
        raise DataError(f"cannot read the IAM-OnDB checksum list of the data mirror: {exc}") from exc
    missing = [name for name in ARCHIVES if name not in sums]
    if missing:
        raise DataError(f"{sums_source} does not list {', '.join(missing)}: the data mirror {mirror} lacks IAM-OnDB")
    paths = [fetch(join_source(mirror, "iam-ondb", name), root / name, sha256=sums[name], desc=name, timeout=timeout)
             for name in ARCHIVES]
    return Source("archives", *paths, digests={name: sums[name] for name in ARCHIVES})


def credentials() -> tuple[str, str]:
    """``(user, password)`` from the environment; :class:`DataError` explaining registration when unset."""
    user, password = os.environ.get(USER_VARIABLE), os.environ.get(PASSWORD_VARIABLE)
    if not user or not password:
        raise DataError(
            f"IAM-OnDB needs your registered credentials: register (free, non-commercial research) at "
            f"{REGISTER_URL}, then set {USER_VARIABLE} and {PASSWORD_VARIABLE}. Or pass dataset_args.path, "
            f"a folder holding {' and '.join(ARCHIVES)}, or set TEXTREC_DATA_MIRROR to a mirror with an iam-ondb/ "
            f"folder.")
    return user, password


def download_official(name: str, dest: Path, base_url: str = OFFICIAL_URL, timeout: float = 60) -> Path:
    """``dest``, downloaded from ``base_url/name`` with HTTP Basic authentication unless already there.

    The core's downloader sends no credentials, so the request is made here and its body handed
    to the core's atomic, length-checked :func:`~textrec_core.services.download.save_stream`.
    """
    if dest.is_file():
        return dest
    user, password = credentials()
    url = f"{base_url.rstrip('/')}/{name}"
    token = base64.b64encode(f"{user}:{password}".encode()).decode("ascii")
    request = urllib.request.Request(url, headers={"User-Agent": "textrec", "Authorization": f"Basic {token}"})
    try:
        response = urllib.request.urlopen(request, timeout=timeout)
    except urllib.error.HTTPError as exc:
        exc.close()
        if exc.code in (401, 403):
            raise DownloadError(f"{url} refused the IAM-OnDB credentials in {USER_VARIABLE} and {PASSWORD_VARIABLE} "
                                f"(HTTP {exc.code}): check them, or register at {REGISTER_URL}") from exc
        raise DownloadError(f"cannot download {url}: HTTP {exc.code} {exc.reason}") from exc
    except (OSError, http.client.HTTPException) as exc:
        raise DownloadError(f"cannot reach {url}: {getattr(exc, 'reason', exc)}") from exc
    length = response.headers.get("Content-Length", "")
    with response:
        return save_stream(response, dest, source=url, sha256=None, length=int(length) if length.isdigit() else None,
                           desc=name)
