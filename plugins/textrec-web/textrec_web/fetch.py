"""Fetching an image by URL for ``GET /v1/predict?image_url=...`` (off unless ``allow_image_url``).

Only ``http`` and ``https`` URLs whose host name is in ``url_allow_hosts`` are fetched, and a
redirect is followed only to such a URL, so the service cannot be steered at other hosts. The
body is read in small pieces and abandoned past ``url_max_bytes`` or past ``url_timeout``
seconds in all (each network wait is bounded by ``url_timeout`` too).
"""

from __future__ import annotations

import http.client
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

from textrec_web.errors import ApiError
from textrec_web.settings import Settings

READ_SIZE = 64 * 1024


def check_url(url: str, settings: Settings) -> None:
    """Refuse ``url`` unless it is http(s) on an allowed host: ``invalid_url`` (400), ``host_not_allowed`` (403)."""
    try:
        parts = urllib.parse.urlsplit(url)
        host = parts.hostname
    except ValueError:
        raise ApiError(400, "invalid_url", f"the image URL {url!r} cannot be parsed") from None
    if parts.scheme.lower() not in ("http", "https") or not host:
        raise ApiError(400, "invalid_url", f"the image URL must be an http or https URL with a host, got {url!r}")
    if host.lower() not in settings.url_allow_hosts:
        raise ApiError(403, "host_not_allowed", f"this server does not fetch images from {host!r}")


class _AllowListedRedirects(urllib.request.HTTPRedirectHandler):
    """Follows a redirect only to a URL that :func:`check_url` accepts."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def redirect_request(self, req: Any, fp: Any, code: int, msg: str, headers: Any, newurl: str) -> Any:
        check_url(newurl, self.settings)
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def fetch_image(url: str, settings: Settings) -> bytes:
    """The body at ``url``. Raises :class:`ApiError`: the refusals of :func:`check_url`,
    ``url_too_large`` (413), ``url_timeout`` (504), ``url_fetch_failed`` (502)."""
    check_url(url, settings)
    opener = urllib.request.build_opener(_AllowListedRedirects(settings))
    request = urllib.request.Request(url, headers={"User-Agent": "textrec-web", "Accept": "image/*"})
    deadline = time.monotonic() + settings.url_timeout
    too_large = ApiError(413, "url_too_large", f"the image at the URL is larger than {settings.url_max_bytes} bytes")
    try:
        with opener.open(request, timeout=settings.url_timeout) as response:
            declared = response.headers.get("Content-Length", "")
            if declared.isdigit() and int(declared) > settings.url_max_bytes:
                raise too_large
            body = bytearray()
            while chunk := response.read1(READ_SIZE):
                body += chunk
                if len(body) > settings.url_max_bytes:
                    raise too_large
                if time.monotonic() > deadline:
                    raise TimeoutError
            if declared.isdigit() and len(body) < int(declared):
                raise ApiError(502, "url_fetch_failed", f"the image URL sent {len(body)} of {declared} bytes")
            return bytes(body)
    except urllib.error.HTTPError as exc:
        raise ApiError(502, "url_fetch_failed", f"the image URL answered HTTP {exc.code}") from None
    except (TimeoutError, urllib.error.URLError, http.client.HTTPException, OSError) as exc:
        reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
        if isinstance(reason, TimeoutError):
            message = f"fetching the image URL took longer than {settings.url_timeout} s"
            raise ApiError(504, "url_timeout", message) from None
        raise ApiError(502, "url_fetch_failed", f"the image URL could not be fetched: {reason}") from None
