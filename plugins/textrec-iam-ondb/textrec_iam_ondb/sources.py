"""Where IAM-OnDB's two archives come from: a local folder, the data mirror, or the official host.

IAM-OnDB (Liwicki and Bunke, ICDAR 2005) is free for non-commercial research after registering
with its publishers, the FKI group (https://fki.tic.heia-fr.ch/register), whose one account and
one login serve both IAM databases. The current host, https://fki.tic.heia-fr.ch, keeps the
archives at ``/DBs/iamOnDB/data/<name>`` behind a **session login**, not HTTP Basic
authentication: a ``POST`` of the form fields ``email`` and ``password`` to ``/login`` sets a
session cookie, and the archives are served only with it (without it, the host redirects to its
login page). (The old host at the University of Bern, www.fki.inf.unibe.ch, used HTTP Basic
authentication, which is what older ``wget --user U --password P`` and ``curl -u U:P`` recipes
send; the current host expects the form login instead.) textrec logs in with ``TEXTREC_IAM_ONDB_USER`` (the
registered e-mail address) and ``TEXTREC_IAM_ONDB_PASSWORD`` through the core's
:func:`~textrec_core.services.login_download.download_after_login`, as the textrec-iam plugin
does for IAM (over HTTPS; the credentials are sent only in the login form, never logged, never
stored).

Sources, first match wins (:func:`locate`):

1. ``path`` (``dataset_args.path``): a folder holding ``lineStrokes-all.tar.gz`` and
   ``ascii-all.tar.gz``, or the extracted ``lineStrokes/`` and ``ascii/`` folders. Read in place.
2. ``$TEXTREC_DATA_MIRROR/iam-ondb/``: both archives verified against that folder's
   ``SHA256SUMS`` and copied atomically into ``data_dir()/iam_ondb/`` by the core's ``fetch``.
3. The official host, with the credentials above. No digests are published for the official
   archives, so a download is accepted when every announced byte arrived; it is written
   atomically (the core's ``save_stream``) and kept in ``data_dir()/iam_ondb/``, where later
   runs find it. Missing credentials raise :class:`DataError` saying how to register and what
   to set; a rejected login (an HTML page or the login page instead of an archive) raises
   :class:`DataError` saying the login was rejected and what to check; an unreachable host or an
   incomplete transfer raises :class:`DownloadError`. Nothing partial is left behind.
"""

from __future__ import annotations

import os
import urllib.parse
from collections.abc import Sequence
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
)
from textrec_core.services.login_download import download_after_login

STROKES_ARCHIVE = "lineStrokes-all.tar.gz"
ASCII_ARCHIVE = "ascii-all.tar.gz"
ARCHIVES = (STROKES_ARCHIVE, ASCII_ARCHIVE)
OFFICIAL_URL = "https://fki.tic.heia-fr.ch/DBs/iamOnDB/data"
REGISTER_URL = "https://fki.tic.heia-fr.ch/register"
LOGIN_PATH = "/login"
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
    return Source("archives", *download_official(ARCHIVES, root, OFFICIAL_URL, timeout))


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
    """``(e-mail, password)`` of the user's FKI registration from the environment; :class:`DataError`
    explaining registration when unset."""
    user, password = os.environ.get(USER_VARIABLE), os.environ.get(PASSWORD_VARIABLE)
    if not user or not password:
        raise DataError(
            f"IAM-OnDB needs your registered credentials: register (free, non-commercial research) at "
            f"{REGISTER_URL}, then set {USER_VARIABLE} (your registered e-mail address) and {PASSWORD_VARIABLE}. "
            f"Or pass dataset_args.path, a folder holding {' and '.join(ARCHIVES)}, or set TEXTREC_DATA_MIRROR to a "
            f"mirror with an iam-ondb/ folder.")
    return user, password


def download_official(names: Sequence[str], dest_dir: Path, base_url: str = OFFICIAL_URL,
                      timeout: float = 60) -> list[Path]:
    """``dest_dir/<name>`` for each of ``names``, downloaded from ``base_url/<name>`` after one
    session login to ``/login`` on ``base_url``'s host, unless already there (then nothing is
    requested and no credentials are needed)."""
    dests = [Path(dest_dir) / name for name in names]
    missing = [dest for dest in dests if not dest.is_file()]
    if not missing:
        return dests
    user, password = credentials()
    base_url = base_url.rstrip("/")
    download_after_login(
        urllib.parse.urljoin(base_url, LOGIN_PATH),
        {"email": user, "password": password},
        {f"{base_url}/{dest.name}": dest for dest in missing},
        rejected_hint=f"the login as {user} was rejected. Check {USER_VARIABLE} (your registered e-mail address) "
                      f"and {PASSWORD_VARIABLE}, or register at {REGISTER_URL}",
        timeout=timeout,
    )
    return dests
