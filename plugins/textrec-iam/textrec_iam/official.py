"""Downloading ``ascii.tgz`` and ``lines.tgz`` from FKI, the IAM database's official host.

FKI (https://fki.tic.heia-fr.ch) serves IAM to registered users only, behind a session login,
not HTTP Basic authentication: a ``POST`` of the form fields ``email`` and ``password`` to
``/login`` sets a session cookie, and ``GET /DBs/iamDB/data/<file>`` with that cookie returns the
file (without it, the host redirects to the login page). textrec does exactly this with the
credentials in ``TEXTREC_IAM_USER`` (the e-mail address registered at
https://fki.tic.heia-fr.ch/register) and ``TEXTREC_IAM_PASSWORD``.

The login and the downloads are the core's
:func:`~textrec_core.services.login_download.download_after_login` (the same FKI account and login
serve IAM-OnDB, in the textrec-iam-ondb plugin). FKI publishes no checksums: an archive is
streamed to a temporary file and renamed into the cache only once complete; a response that is an
HTML page or the login page rather than an archive (a rejected login) is an error, and nothing is
left behind.
"""

from __future__ import annotations

import os
from pathlib import Path

from textrec_core.errors import DataError
from textrec_core.services.login_download import download_after_login

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
    "Or set dataset_args.source to 'fsdl' for the FSDL repackaging of the form scans and XML, without "
    f"registration ({FSDL_URL}; it has been unreachable for some users)."
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
    download_after_login(
        f"{host}/login",
        {"email": user, "password": password},
        {f"{host}{DATA_PATH}{name}": dest_dir / name for name in missing},
        rejected_hint=f"the login as {user} was rejected. Check {USER_VARIABLE} (your registered e-mail address) "
                      f"and {PASSWORD_VARIABLE} (register at {host}/register)",
        timeout=timeout,
        desc_prefix="IAM ",
    )
