"""Where IAM comes from: official archives in a folder, the data mirror, the official host's login."""

from __future__ import annotations

import hashlib
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from textrec_core.errors import ChecksumError, DataError
from textrec_iam import IamLinesDataset, official

EXPECTED_IDS = ["a01-000u-00", "a01-000u-01", "a01-000x-00"]


def prepared(path=None, **kwargs) -> IamLinesDataset:
    dataset = IamLinesDataset(path=None if path is None else str(path), split="all", **kwargs)
    dataset.prepare()
    return dataset


@pytest.mark.parametrize("ascii_prefix", ["", "ascii/"])
def test_a_folder_of_official_archives_reads_like_the_folder(iam, cache_dir, tmp_path, ascii_prefix):
    folder = iam.folder()
    archives = iam.archives(folder, tmp_path / "archives", ascii_prefix=ascii_prefix)
    from_archives, from_folder = prepared(archives), prepared(folder)
    assert sorted(from_archives.test.ids) == EXPECTED_IDS
    for (images_a, labels_a), (images_f, labels_f) in zip(from_archives.test.batches(2), from_folder.test.batches(2)):
        assert images_a.equal(images_f) and labels_a.equal(labels_f)


def test_a_damaged_archive_is_a_data_error_naming_it(iam, cache_dir, tmp_path):
    archives = iam.archives(iam.folder(), tmp_path / "archives")
    data = (archives / "lines.tgz").read_bytes()
    (archives / "lines.tgz").write_bytes(data[: len(data) // 2])
    with pytest.raises(DataError, match="lines.tgz"):
        prepared(archives)
    assert iam.files(cache_dir) == []


def mirror_with_iam(iam, root, *, wrong_digest=False):
    """A data mirror at ``root`` holding ``iam/ascii.tgz``, ``iam/lines.tgz`` and ``iam/SHA256SUMS``
    (listing the digest of other bytes when ``wrong_digest``)."""
    archives = iam.archives(iam.folder(), root / "iam")
    sums = []
    for name in ("ascii.tgz", "lines.tgz"):
        data = b"other bytes" if wrong_digest else (archives / name).read_bytes()
        sums.append(f"{hashlib.sha256(data).hexdigest()}  {name}\n")
    (archives / "SHA256SUMS").write_text("".join(sums))
    return root


def test_the_data_mirror_is_used_when_no_path_is_given(iam, cache_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("TEXTREC_DATA_MIRROR", str(mirror_with_iam(iam, tmp_path / "mirror")))
    assert sorted(prepared().test.ids) == EXPECTED_IDS
    assert {"ascii.tgz", "lines.tgz"} <= set(iam.files(cache_dir))


def test_a_mirror_file_with_the_wrong_digest_is_refused_and_not_cached(iam, cache_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("TEXTREC_DATA_MIRROR", str(mirror_with_iam(iam, tmp_path / "mirror", wrong_digest=True)))
    with pytest.raises(ChecksumError):
        prepared()
    assert iam.files(cache_dir) == []


def test_a_mirror_without_iam_is_a_data_error_saying_what_to_do(cache_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("TEXTREC_DATA_MIRROR", str(tmp_path))
    with pytest.raises(DataError, match="no readable IAM checksum list.*dataset_args.path"):
        prepared()


def test_without_credentials_the_error_says_how_to_register_and_what_to_set(cache_dir, monkeypatch):
    monkeypatch.delenv("TEXTREC_DATA_MIRROR", raising=False)
    monkeypatch.delenv(official.USER_VARIABLE, raising=False)
    monkeypatch.delenv(official.PASSWORD_VARIABLE, raising=False)
    with pytest.raises(DataError) as raised:
        prepared()
    message = str(raised.value)
    for part in ("https://fki.tic.heia-fr.ch/register", "TEXTREC_IAM_USER", "TEXTREC_IAM_PASSWORD",
                 "dataset_args.path", official.FSDL_URL, "unreachable"):
        assert part in message


class FkiHandler(BaseHTTPRequestHandler):
    """Serves files as FKI does: ``POST /login`` (form fields email, password) sets a session
    cookie; ``/DBs/iamDB/data/<file>`` needs it, and redirects to the login page without it."""

    server: FkiServer

    def do_POST(self) -> None:
        form = urllib.parse.parse_qs(self.rfile.read(int(self.headers["Content-Length"])).decode())
        self.server.logins.append(form)
        self.send_response(302)
        if form.get("email") == ["me@example.org"] and form.get("password") == ["secret"]:
            self.send_header("Set-Cookie", "session=s3cr3t; Path=/")
        self.send_header("Location", "/")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_GET(self) -> None:
        body = self.server.files.get(self.path.removeprefix("/DBs/iamDB/data/"))
        if self.path.startswith("/DBs/") and body is not None and "session=s3cr3t" in self.headers.get("Cookie", ""):
            self.send_response(200)
            self.send_header("Content-Type", "application/x-gzip")
        elif self.path.startswith("/DBs/"):
            self.send_response(302)
            self.send_header("Location", "/login")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        else:
            body = b"<html><form method=post>login</form></html>"
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


class FkiServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, files: dict[str, bytes]) -> None:
        super().__init__(("127.0.0.1", 0), FkiHandler)
        self.files = files
        self.logins: list[dict[str, list[str]]] = []
        threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()


@pytest.fixture
def fki(iam, tmp_path, monkeypatch):
    archives = iam.archives(iam.folder(), tmp_path / "served")
    server = FkiServer({name: (archives / name).read_bytes() for name in ("ascii.tgz", "lines.tgz")})
    monkeypatch.setattr(official, "OFFICIAL_HOST", f"http://127.0.0.1:{server.server_address[1]}")
    monkeypatch.delenv("TEXTREC_DATA_MIRROR", raising=False)
    yield server
    server.shutdown()
    server.server_close()


def test_the_official_host_is_logged_into_with_the_user_s_credentials(fki, iam, cache_dir, monkeypatch):
    monkeypatch.setenv(official.USER_VARIABLE, "me@example.org")
    monkeypatch.setenv(official.PASSWORD_VARIABLE, "secret")
    assert sorted(prepared().test.ids) == EXPECTED_IDS
    assert fki.logins == [{"email": ["me@example.org"], "password": ["secret"]}]
    assert {"ascii.tgz", "lines.tgz"} <= set(iam.files(cache_dir))
    prepared()  # cached: no second login
    assert len(fki.logins) == 1


def test_a_rejected_login_is_a_data_error_and_leaves_nothing(fki, iam, cache_dir, monkeypatch):
    monkeypatch.setenv(official.USER_VARIABLE, "me@example.org")
    monkeypatch.setenv(official.PASSWORD_VARIABLE, "wrong")
    with pytest.raises(DataError, match="login as me@example.org was rejected"):
        prepared()
    assert iam.files(cache_dir) == []
