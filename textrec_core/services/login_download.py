"""Downloading files from a host that serves them only after a form login.

Some hosts (FKI, https://fki.tic.heia-fr.ch, which serves both IAM databases) keep their files
behind a session login rather than HTTP Basic authentication: a ``POST`` of a form to a login URL
sets a session cookie, and the files are served only to requests carrying it; without it the host
redirects to its login page or answers with an HTML page. :func:`download_after_login` does
exactly this: it logs in once, keeps the cookie, and streams each file into place atomically and
length-checked (:func:`~textrec_core.services.download.save_stream`), so a destination never holds
a partial file. Credentials travel only in the login form: never logged, never stored.
"""

from __future__ import annotations

import http.client
import http.cookiejar
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from pathlib import Path

from textrec_core.errors import DataError, DownloadError
from textrec_core.services.download import save_stream

_REFUSED = (401, 403)


def download_after_login(
    login_url: str,
    form: Mapping[str, str],
    files: Mapping[str, Path],
    *,
    rejected_hint: str,
    timeout: float = 60,
    desc_prefix: str = "",
) -> None:
    """Log in by ``POST``-ing ``form`` to ``login_url``, then download each ``url -> destination``
    of ``files`` with the session cookie, skipping destinations that already exist (when all exist,
    nothing is requested, not even the login).

    A rejected login raises :class:`DataError` with ``rejected_hint`` (say which credentials to
    check): a file answered with an HTML page, with a redirect to the login URL's page, or with
    HTTP 401/403. An unreachable host, another HTTP error or an incomplete transfer raises
    :class:`DownloadError`. Either way no partial file is left; files completed before the error
    are kept. ``timeout`` (seconds) applies to each network operation; progress bars are labelled
    ``desc_prefix`` followed by the file's name.
    """
    missing = {url: Path(dest) for url, dest in files.items() if not Path(dest).is_file()}
    if not missing:
        return
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
    opener.addheaders = [("User-Agent", "textrec")]
    data = urllib.parse.urlencode(dict(form)).encode()
    _open(opener, login_url, data, timeout, rejected_hint).close()
    login_path = _path_of(login_url)
    for url, dest in missing.items():
        with _open(opener, url, None, timeout, rejected_hint) as response:
            if "html" in response.headers.get("Content-Type", "").lower():
                raise DataError(f"{url} was not served (the host answered with an HTML page): {rejected_hint}")
            if _path_of(response.geturl()) == login_path:
                raise DataError(f"{url} was not served (the host redirected to its login page): {rejected_hint}")
            length = response.headers.get("Content-Length", "")
            save_stream(response, dest, source=url, sha256=None, length=int(length) if length.isdigit() else None,
                        desc=f"{desc_prefix}{dest.name}")


def _path_of(url: str) -> str:
    return urllib.parse.urlsplit(url).path.rstrip("/")


def _open(opener: urllib.request.OpenerDirector, url: str, data: bytes | None, timeout: float,
          rejected_hint: str) -> http.client.HTTPResponse:
    """``url`` opened through ``opener`` (a ``POST`` of ``data`` unless None). HTTP 401/403 raise
    :class:`DataError` with ``rejected_hint``; unreachable hosts and other HTTP errors raise
    :class:`DownloadError`."""
    try:
        return opener.open(url, data=data, timeout=timeout)
    except urllib.error.HTTPError as exc:
        exc.close()
        if exc.code in _REFUSED:
            raise DataError(f"{url} refused the login (HTTP {exc.code}): {rejected_hint}") from exc
        raise DownloadError(f"cannot download {url}: HTTP {exc.code} {exc.reason}") from exc
    except (OSError, http.client.HTTPException) as exc:  # URLError is an OSError
        raise DownloadError(f"cannot reach {url}: {getattr(exc, 'reason', exc)}") from exc
