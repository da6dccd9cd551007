"""Downloading ``ascii.tgz`` and ``lines.tgz`` from FKI, the IAM database's official host.

FKI (https://fki.tic.heia-fr.ch) serves IAM to registered users only, behind a session login,
not HTTP Basic authentication: a ``POST`` of the form fields ``email`` and ``password`` to
``/login`` sets a session cookie, and ``GET /DBs/iamDB/data/<file>`` with that cookie returns the
file (without it, the host redirects to the login page). textrec does exactly this with the
credentials in ``TEXTREC_IAM_USER`` (the e-mail address registered at
https://fki.tic.heia-fr.ch/register) and ``TEXTREC_IAM_PASSWORD``.

FKI publishes no checksums: an archive is streamed to a temporary file and renamed into the cache
only once complete (:func:`~textrec_core.services.download.save_stream`); a response that is an
HTML page rather than an archive (a rejected login) is an error, and nothing is left behind.
"""

from __future__ import annotations

import http.client
import http.cookiejar
import os
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from textrec_core.errors import DataError, DownloadError
from textrec_core.services.download import save_stream

OFFICIAL_HOST = "https://fki.tic.heia-fr.ch"
DATA_PATH = "/DBs/iamDB/data/"
USER_VARIABLE = "TEXTREC_IAM_USER"
PASSWORD_VARIABLE = "TEXTREC_IAM_PASSWORD"
FSDL_URL = "https://s3-us-west-2.amazonaws.com/fsdl-public-assets/iam/iamdb.zip"

NO_CREDENTIALS = (
    "IAM's line images are needed and none were found: no dataset_args.path, no TEXTREC_DATA_MIRROR, and no "
    f"credentials for the official host. IAM is free for non-commercial research after registration: register "
    f"at {OFFICIAL_HOST}/register, then set {USER_VARIABLE} (your registered e-mail address) and "
    f"{PASSWORD_VARIABLE}, and textrec downloads ascii.tgz and lines.tgz itself. Or download them yourself and "
    "pass their folder as dataset_args.path (a folder in IAM's layout, ascii/lines.txt with lines/, works too). "
    f"The FSDL repackaging ({FSDL_URL}) holds form scans and XML only, not line crops, and has been unreachable "
    "for some users."
)


def credentials() -> tuple[str, str]:
    """The user's FKI e-mail and password from the environment; :class:`DataError` explaining how to
    register and what to set when either is missing."""
    user, password = os.environ.get(USER_VARIABLE), os.environ.get(PASSWORD_VARIABLE)
    if not user or not password:
        raise DataError(NO_CREDENTIALS)
    return user, password


def download_official(names: list[str], dest_dir: Path, *, host: str | None = None, timeout: float = 60) -> None:
    """Log in to ``host`` (default :data:`OFFICIAL_HOST`) and download each file of ``names``
    (``ascii.tgz``, ``lines.tgz``) into ``dest_dir``, skipping files already there. Raises
    :class:`DataError` without credentials or when the login is rejected, :class:`DownloadError`
    when the host cannot be reached or a transfer is incomplete."""
    missing = [name for name in names if not (dest_dir / name).is_file()]
    if not missing:
        return
    host = host or OFFICIAL_HOST
    user, password = credentials()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
    opener.addheaders = [("User-Agent", "textrec")]
    form = urllib.parse.urlencode({"email": user, "password": password}).encode()
    _open(opener, f"{host}/login", form, timeout).close()
    for name in missing:
        url = f"{host}{DATA_PATH}{name}"
        response = _open(opener, url, None, timeout)
        with response:
            if "html" in response.headers.get("Content-Type", "") or response.geturl().rstrip("/").endswith("/login"):
                raise DataError(f"{host} did not serve {name}: the login as {user} was rejected. Check "
                                f"{USER_VARIABLE} and {PASSWORD_VARIABLE} (register at {host}/register)")
            length = response.headers.get("Content-Length", "")
            save_stream(response, dest_dir / name, source=url, sha256=None,
                        length=int(length) if length.isdigit() else None, desc=f"IAM {name}")


def _open(opener: urllib.request.OpenerDirector, url: str, data: bytes | None,
          timeout: float) -> http.client.HTTPResponse:
    """``url`` opened through ``opener`` (a ``POST`` of ``data`` unless None); unreachable hosts and
    HTTP errors raise :class:`DownloadError`."""
    try:
        return opener.open(url, data=data, timeout=timeout)
    except urllib.error.HTTPError as exc:
        exc.close()
        raise DownloadError(f"cannot download {url}: HTTP {exc.code} {exc.reason}") from exc
    except (OSError, http.client.HTTPException) as exc:
        raise DownloadError(f"cannot reach {url}: {getattr(exc, 'reason', exc)}") from exc
