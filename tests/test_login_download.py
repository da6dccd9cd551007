"""Downloads after a form login, against a real HTTP server on 127.0.0.1 that behaves like FKI:
``POST /login`` sets a session cookie only for the right e-mail and password, and files are served
only with that cookie (else a redirect to the login page, or an HTML page in place of the file)."""

from __future__ import annotations

import socket
import threading
import urllib.parse
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from textrec_core.errors import DataError, DownloadError
from textrec_core.services.login_download import download_after_login

EMAIL, PASSWORD = "me@example.org", "s3cret&pw="
COOKIE = "session=opaque-token"
FILES = {"/data/a.bin": bytes(range(256)) * 4096, "/data/b.txt": b"second file\n"}
HINT = "check TEST_USER and TEST_PASSWORD"


class _LoginHandler(BaseHTTPRequestHandler):
    server: _LoginServer

    def do_POST(self) -> None:
        form = urllib.parse.parse_qs(self.rfile.read(int(self.headers["Content-Length"])).decode())
        self.server.requests.append(("POST", self.path))
        self.send_response(302)
        if self.path == "/login" and form == {"email": [EMAIL], "password": [PASSWORD]}:
            self.send_header("Set-Cookie", f"{COOKIE}; Path=/")
        self.send_header("Location", "/")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_GET(self) -> None:
        self.server.requests.append(("GET", self.path))
        body = FILES.get(self.path)
        if body is not None and COOKIE in self.headers.get("Cookie", ""):
            announced = len(body)
            if self.server.truncate:
                body = body[: len(body) // 2]
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Content-Length", str(announced))
            self.end_headers()
            self.wfile.write(body)
            return
        if body is not None and self.server.refusal == "401":
            self.send_response(401)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if body is not None and self.server.refusal == "redirect":
            self.send_response(302)
            self.send_header("Location", "/login")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        # the login page, or the HTML page served in place of a file; in "redirect" mode without a
        # Content-Type, so that only the redirect to /login reveals the refusal
        page = b"<html><form method=post action=/login>log in</form></html>"
        self.send_response(200)
        if self.server.refusal == "page":
            self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(page)))
        self.end_headers()
        self.wfile.write(page)

    def log_message(self, format: str, *args: object) -> None:
        pass


class _LoginServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _LoginHandler)
        self.requests: list[tuple[str, str]] = []
        self.refusal = "redirect"  # or "page", "401"
        self.truncate = False
        self.base = f"http://127.0.0.1:{self.server_address[1]}"


@pytest.fixture
def server() -> Iterator[_LoginServer]:
    server = _LoginServer()
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


def _files(server: _LoginServer, folder: Path) -> dict[str, Path]:
    return {f"{server.base}{path}": folder / Path(path).name for path in FILES}


def _download(server: _LoginServer, folder: Path, password: str = PASSWORD) -> None:
    download_after_login(f"{server.base}/login", {"email": EMAIL, "password": password}, _files(server, folder),
                         rejected_hint=HINT, timeout=10)


def _listing(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def test_a_good_login_downloads_every_file_once(server, tmp_path):
    _download(server, tmp_path / "out")
    assert _listing(tmp_path / "out") == ["a.bin", "b.txt"]
    for path, body in FILES.items():
        assert (tmp_path / "out" / Path(path).name).read_bytes() == body
    assert server.requests[0] == ("POST", "/login")
    assert sorted(server.requests[-2:]) == [("GET", "/data/a.bin"), ("GET", "/data/b.txt")]
    count = len(server.requests)
    _download(server, tmp_path / "out", password="not even checked")
    assert len(server.requests) == count  # all present: no login, no download


def test_only_missing_files_are_downloaded(server, tmp_path):
    (tmp_path / "a.bin").write_bytes(b"kept")
    _download(server, tmp_path)
    assert (tmp_path / "a.bin").read_bytes() == b"kept"
    assert (tmp_path / "b.txt").read_bytes() == FILES["/data/b.txt"]
    assert ("GET", "/data/a.bin") not in server.requests


@pytest.mark.parametrize("refusal", ["redirect", "page", "401"])
def test_a_wrong_password_is_a_data_error_naming_the_hint_and_leaves_nothing(server, tmp_path, refusal):
    server.refusal = refusal
    with pytest.raises(DataError, match=HINT) as raised:
        _download(server, tmp_path / "out", password="wrong")
    assert not isinstance(raised.value, DownloadError)
    assert {"redirect": "login page", "page": "HTML page", "401": "HTTP 401"}[refusal] in str(raised.value)
    assert "wrong" not in str(raised.value)
    assert _listing(tmp_path / "out") == []


def test_an_unreachable_host_is_a_download_error(tmp_path):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    with pytest.raises(DownloadError, match="cannot reach"):
        download_after_login(f"{url}/login", {"email": EMAIL, "password": PASSWORD}, {f"{url}/data/a.bin":
                             tmp_path / "a.bin"}, rejected_hint=HINT, timeout=5)
    assert _listing(tmp_path) == []


def test_a_truncated_body_is_a_download_error_and_leaves_nothing(server, tmp_path):
    server.truncate = True
    with pytest.raises(DownloadError, match="incomplete transfer"):
        _download(server, tmp_path / "out")
    assert _listing(tmp_path / "out") == []
