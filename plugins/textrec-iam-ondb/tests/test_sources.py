"""Where the archives come from: the official host behind its session login (a loopback server
that demands it, as fki.tic.heia-fr.ch does: ``POST /login`` with the form fields ``email`` and
``password`` sets a cookie, the archives are served only with it, else a redirect to the login
page), the data mirror with its SHA256SUMS, and missing credentials."""

from __future__ import annotations

import hashlib
import socket
import threading
import urllib.parse
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

import textrec_iam_ondb.sources as sources
from textrec_core.errors import ChecksumError, DataError, DownloadError
from textrec_iam_ondb import IamOnDbDataset

USER, PASSWORD = "writer@example.org", "s3cret:pw&="
COOKIE = "session=ondb-token"


class _SessionLoginHandler(BaseHTTPRequestHandler):
    """``POST /login`` sets the session cookie for the right e-mail and password only; ``GET``
    serves ``server.files`` with the cookie, redirects to ``/login`` without it; ``/login`` is an
    HTML page."""

    def do_POST(self) -> None:
        form = urllib.parse.parse_qs(self.rfile.read(int(self.headers["Content-Length"])).decode())
        self.server.requests.append(("POST", self.path))
        self.server.logins.append(form)
        self.send_response(302)
        if self.path == "/login" and form == {"email": [USER], "password": [PASSWORD]}:
            self.send_header("Set-Cookie", f"{COOKIE}; Path=/")
        self.send_header("Location", "/")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_GET(self) -> None:
        self.server.requests.append(("GET", self.path))
        body = self.server.files.get(self.path)
        if body is not None and COOKIE in self.headers.get("Cookie", ""):
            self.send_response(200)
            self.send_header("Content-Type", "application/x-gzip")
        elif body is not None:
            self.send_response(302)
            self.send_header("Location", "/login")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        elif self.path in ("/login", "/"):
            body = b"<html><form method=post action=/login>log in</form></html>"
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
        else:
            self.send_error(404)
            return
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def auth_server(facts) -> Iterator[ThreadingHTTPServer]:
    """A loopback server with the fixture's archives under ``/DBs/iamOnDB/data/``, behind the session login."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _SessionLoginHandler)
    server.daemon_threads = True
    server.files = {f"/DBs/iamOnDB/data/{name}": body for name, body in facts["archive_bytes"].items()}
    server.requests = []
    server.logins = []
    server.base_url = f"http://127.0.0.1:{server.server_port}/DBs/iamOnDB/data"
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def credentials(monkeypatch):
    def set_credentials(user: str | None, password: str | None) -> None:
        for variable, value in ((sources.USER_VARIABLE, user), (sources.PASSWORD_VARIABLE, password)):
            if value is None:
                monkeypatch.delenv(variable, raising=False)
            else:
                monkeypatch.setenv(variable, value)
    return set_credentials


@pytest.mark.parametrize("user", [None, USER])
def test_missing_credentials_say_how_to_register_and_request_nothing(auth_server, credentials, tmp_path, user):
    credentials(user, None)
    with pytest.raises(DataError, match="register .* at https://fki.tic.heia-fr.ch/register.*TEXTREC_IAM_ONDB_USER"):
        sources.download_official([sources.ASCII_ARCHIVE], tmp_path, auth_server.base_url)
    assert auth_server.requests == [] and list(tmp_path.iterdir()) == []


def test_a_rejected_login_is_a_data_error_leaving_nothing(auth_server, credentials, tmp_path):
    credentials(USER, "wrong")
    with pytest.raises(DataError, match="login as writer@example.org was rejected.*TEXTREC_IAM_ONDB_PASSWORD"):
        sources.download_official([sources.ASCII_ARCHIVE], tmp_path, auth_server.base_url)
    assert auth_server.logins == [{"email": [USER], "password": ["wrong"]}]
    assert list(tmp_path.iterdir()) == []


def test_the_right_login_downloads_the_archives_once(auth_server, credentials, tmp_path, facts):
    credentials(USER, PASSWORD)
    dests = sources.download_official(sources.ARCHIVES, tmp_path, auth_server.base_url)
    assert dests == [tmp_path / name for name in sources.ARCHIVES]
    for dest in dests:
        assert dest.read_bytes() == facts["archive_bytes"][dest.name]
    assert auth_server.logins == [{"email": [USER], "password": [PASSWORD]}]  # one login for both archives
    count = len(auth_server.requests)
    assert sources.download_official(sources.ARCHIVES, tmp_path, auth_server.base_url) == dests  # kept, not fetched
    assert len(auth_server.requests) == count


def test_an_unreachable_host_is_a_download_error(credentials, tmp_path):
    credentials(USER, PASSWORD)
    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(DownloadError, match="cannot reach"):
        sources.download_official([sources.ASCII_ARCHIVE], tmp_path, f"http://127.0.0.1:{port}/DBs/iamOnDB/data", 5)
    assert list(tmp_path.iterdir()) == []


def test_dataset_downloads_from_the_official_host(auth_server, credentials, monkeypatch, tmp_path, facts):
    credentials(USER, PASSWORD)
    monkeypatch.setenv("TEXTREC_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setattr(sources, "OFFICIAL_URL", auth_server.base_url)
    dataset = IamOnDbDataset(height=32, max_width=256, max_length=40)
    dataset.prepare()
    assert sum(len(dataset.splits[n]) for n in ("train", "val", "test")) == facts["kept_lines"]
    assert {path.name for path in (tmp_path / "data" / "iam_ondb").glob("*.tar.gz")} == set(sources.ARCHIVES)


def test_no_source_at_all_is_a_clear_data_error(credentials, monkeypatch, tmp_path):
    credentials(None, None)
    monkeypatch.setenv("TEXTREC_DATA_DIR", str(tmp_path))
    with pytest.raises(DataError, match="TEXTREC_IAM_ONDB_PASSWORD.*dataset_args.path.*TEXTREC_DATA_MIRROR"):
        IamOnDbDataset().prepare()


def _mirror(tmp_path, facts, *, corrupt: bool = False):
    folder = tmp_path / "mirror" / "iam-ondb"
    folder.mkdir(parents=True)
    sums = []
    for name, body in facts["archive_bytes"].items():
        (folder / name).write_bytes(body + (b"x" if corrupt else b""))
        sums.append(f"{hashlib.sha256(body).hexdigest()}  {name}")
    (folder / "SHA256SUMS").write_text("\n".join(sums) + "\n")
    return folder.parent


def test_mirror_copies_verified_archives(tmp_path, facts, monkeypatch):
    monkeypatch.setenv("TEXTREC_DATA_MIRROR", str(_mirror(tmp_path, facts)))
    monkeypatch.setenv("TEXTREC_DATA_DIR", str(tmp_path / "data"))
    source = sources.locate(None)
    assert source.strokes == tmp_path / "data" / "iam_ondb" / "lineStrokes-all.tar.gz"
    assert source.digests["ascii-all.tar.gz"] == hashlib.sha256(facts["archive_bytes"]["ascii-all.tar.gz"]).hexdigest()


def test_corrupt_mirror_file_is_a_checksum_error_leaving_nothing(tmp_path, facts, monkeypatch):
    monkeypatch.setenv("TEXTREC_DATA_MIRROR", str(_mirror(tmp_path, facts, corrupt=True)))
    monkeypatch.setenv("TEXTREC_DATA_DIR", str(tmp_path / "data"))
    with pytest.raises(ChecksumError):
        sources.locate(None)
    assert not any((tmp_path / "data" / "iam_ondb").iterdir())
