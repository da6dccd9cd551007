"""The core downloader against a real HTTP server on 127.0.0.1, local paths and file:// URLs."""

from __future__ import annotations

import hashlib
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import platformdirs
import pytest

import textrec_core
from textrec_core.errors import ChecksumError, DataError, DownloadError
from textrec_core.services.download import (
    data_dir,
    data_mirror,
    fetch,
    join_source,
    parse_sha256sums,
    read_source,
    sha256_file,
)

PAYLOAD = bytes(range(256)) * 4096  # 1 MiB, so it spans several reads
DIGEST = hashlib.sha256(PAYLOAD).hexdigest()


@pytest.fixture
def server(http_file_server):
    return http_file_server


def _listing(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir()) if directory.exists() else []


def test_http_fetch_writes_the_verified_file(server, tmp_path):
    url = server.serve("data.bin", PAYLOAD)
    dest = tmp_path / "out" / "data.bin"
    assert fetch(url, dest, sha256=DIGEST, size=len(PAYLOAD), desc="data") == dest
    assert dest.read_bytes() == PAYLOAD
    assert _listing(dest.parent) == ["data.bin"]


def test_bad_checksum_names_both_digests_and_leaves_nothing(server, tmp_path):
    url = server.serve("data.bin", PAYLOAD)
    wrong = "0" * 64
    with pytest.raises(ChecksumError) as info:
        fetch(url, tmp_path / "data.bin", sha256=wrong)
    assert url in str(info.value) and wrong in str(info.value) and DIGEST in str(info.value)
    assert _listing(tmp_path) == []


def test_size_mismatch(server, tmp_path):
    url = server.serve("data.bin", PAYLOAD)
    with pytest.raises(ChecksumError, match="size mismatch"):
        fetch(url, tmp_path / "data.bin", sha256=DIGEST, size=len(PAYLOAD) - 1)
    with pytest.raises(DownloadError, match="truncated") as info:
        fetch(url, tmp_path / "data.bin", sha256=DIGEST, size=len(PAYLOAD) + 1)
    assert not isinstance(info.value, ChecksumError)
    assert _listing(tmp_path) == []


def test_truncated_response(server, tmp_path):
    url = server.serve("data.bin", PAYLOAD, mode="truncated")
    with pytest.raises(DownloadError, match=f"incomplete transfer of {url}: truncated at") as info:
        fetch(url, tmp_path / "data.bin", sha256=DIGEST)
    assert not isinstance(info.value, ChecksumError)
    assert _listing(tmp_path) == []


def test_interrupted_transfer(server, tmp_path):
    url = server.serve("data.bin", PAYLOAD, mode="reset")
    with pytest.raises(DownloadError, match=f"incomplete transfer of {url}: interrupted"):
        fetch(url, tmp_path / "data.bin", sha256=DIGEST)
    assert _listing(tmp_path) == []


def test_http_404_names_url_and_mirror_hint(server, tmp_path):
    url = server.serve("data.bin", PAYLOAD).replace("data.bin", "missing.bin")
    with pytest.raises(DownloadError) as info:
        fetch(url, tmp_path / "missing.bin", sha256=DIGEST)
    message = str(info.value)
    assert url in message and "HTTP 404" in message and "TEXTREC_DATA_MIRROR" in message
    assert _listing(tmp_path) == []


def test_unreachable_host(tmp_path):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}/data.bin"
    with pytest.raises(DownloadError, match="cannot reach") as info:
        fetch(url, tmp_path / "data.bin", sha256=DIGEST, timeout=5)
    assert url in str(info.value) and "TEXTREC_DATA_MIRROR" in str(info.value)
    assert _listing(tmp_path) == []


@pytest.mark.parametrize("as_url", [False, True], ids=["path", "file-url"])
def test_local_sources(tmp_path, as_url):
    source = tmp_path / "source dir" / "data.bin"
    source.parent.mkdir()
    source.write_bytes(PAYLOAD)
    dest = tmp_path / "out" / "data.bin"
    fetch(source.as_uri() if as_url else str(source), dest, sha256=DIGEST, size=len(PAYLOAD))
    assert dest.read_bytes() == PAYLOAD


def test_missing_local_source(tmp_path):
    missing = str(tmp_path / "missing.bin")
    with pytest.raises(DownloadError, match=f"cannot read {missing}"):
        fetch(missing, tmp_path / "out" / "data.bin", sha256=DIGEST)
    assert _listing(tmp_path / "out") == []


def test_cached_file_is_reused_without_network(server, tmp_path):
    url = server.serve("data.bin", PAYLOAD)
    dest = fetch(url, tmp_path / "data.bin", sha256=DIGEST)
    server.stop()
    assert fetch(url, dest, sha256=DIGEST, size=len(PAYLOAD)) == dest
    assert server.requests == ["/data.bin"]


def test_corrupt_cached_file_is_fetched_again(server, tmp_path):
    url = server.serve("data.bin", PAYLOAD)
    dest = tmp_path / "data.bin"
    dest.write_bytes(PAYLOAD[:-1] + b"x")
    fetch(url, dest, sha256=DIGEST)
    assert dest.read_bytes() == PAYLOAD
    assert server.requests == ["/data.bin"]


def test_without_digest_fetches_every_time(server, tmp_path):
    url = server.serve("data.bin", PAYLOAD)
    dest = tmp_path / "data.bin"
    fetch(url, dest, sha256=None)
    fetch(url, dest, sha256=None)
    assert dest.read_bytes() == PAYLOAD
    assert server.requests == ["/data.bin", "/data.bin"]


@pytest.mark.skipif(os.name != "posix", reason="interrupts a child process with SIGINT")
def test_keyboard_interrupt_leaves_no_temporary_file(server, tmp_path):
    url = server.serve("slow.bin", PAYLOAD, mode="slow")
    dest = tmp_path / "out" / "slow.bin"
    # Ctrl-C raises KeyboardInterrupt even where the child inherits SIGINT ignored (a background job's)
    code = ("import signal, sys; signal.signal(signal.SIGINT, signal.default_int_handler); "
            "from textrec_core.services.download import fetch; fetch(sys.argv[1], sys.argv[2], sha256=None)")
    package_root = str(Path(textrec_core.__file__).resolve().parents[1])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([package_root, os.environ.get("PYTHONPATH", "")])}
    child = subprocess.Popen([sys.executable, "-c", code, url, str(dest)], env=env, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while not _listing(dest.parent):  # the temporary file exists: the transfer is under way
            assert child.poll() is None, child.stderr.read().decode()
            assert time.monotonic() < deadline, "the child never started the transfer"
            time.sleep(0.02)
        time.sleep(0.2)
        child.send_signal(signal.SIGINT)
        _, stderr = child.communicate(timeout=60)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    assert child.returncode != 0
    assert b"KeyboardInterrupt" in stderr
    assert _listing(dest.parent) == []


def test_read_source(server, tmp_path):
    assert read_source(server.serve("sums.txt", b"abc")) == b"abc"
    with pytest.raises(DownloadError, match="truncated"):
        read_source(server.serve("cut.txt", PAYLOAD, mode="truncated"))
    (tmp_path / "sums.txt").write_bytes(b"xyz")
    assert read_source(str(tmp_path / "sums.txt")) == b"xyz"


def test_sha256_file(tmp_path):
    (tmp_path / "data.bin").write_bytes(PAYLOAD * 3)
    assert sha256_file(tmp_path / "data.bin") == hashlib.sha256(PAYLOAD * 3).hexdigest()


def test_parse_sha256sums():
    text = f"{DIGEST}  ./gzip/a.gz\n\n{DIGEST.upper()} *b.txt\n{'1' * 64}  dir/with space.bin\n"
    assert parse_sha256sums(text) == {"gzip/a.gz": DIGEST, "b.txt": DIGEST, "dir/with space.bin": "1" * 64}


@pytest.mark.parametrize(
    "text, problem",
    [
        (f"{DIGEST}  a\nnot a checksum line\n", "SUMS, line 2"),
        (f"{DIGEST[:-1]}  a\n", "SUMS, line 1"),
        (f"{DIGEST} a\n", "SUMS, line 1"),
        (f"{DIGEST}  a\n{'1' * 64}  ./a\n", "a is listed twice"),
    ],
)
def test_parse_sha256sums_rejects_bad_lines(text, problem):
    with pytest.raises(DataError, match=problem):
        parse_sha256sums(text, origin="SUMS")


def test_join_source(tmp_path):
    assert join_source(str(tmp_path), "emnist", "gzip/a.gz") == str(tmp_path / "emnist" / "gzip" / "a.gz")
    url = join_source("https://host/mirror/", "emnist", "gzip/a b.gz")
    assert url == "https://host/mirror/emnist/gzip/a%20b.gz"
    assert join_source("file:///srv/mirror", "x") == "file:///srv/mirror/x"


def test_data_dir_and_mirror(monkeypatch, tmp_path):
    monkeypatch.setenv("TEXTREC_DATA_DIR", str(tmp_path))
    assert data_dir() == tmp_path
    monkeypatch.delenv("TEXTREC_DATA_DIR")
    assert data_dir() == Path(platformdirs.user_cache_dir("textrec"))
    assert data_mirror() is None
    monkeypatch.setenv("TEXTREC_DATA_MIRROR", "https://mirror.example/data")
    assert data_mirror() == "https://mirror.example/data"
