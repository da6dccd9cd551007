"""Fetching EMNIST member files from an archive over real local HTTP, and from data mirrors."""

from __future__ import annotations

import hashlib
import io
import zipfile
from pathlib import Path

import numpy as np
import pytest

from textrec_core.errors import ArgumentError, ChecksumError, DataError, DownloadError
from textrec_core.mapping import EMNIST_CHARACTERS
from textrec_emnist.files import (
    OFFICIAL_MEMBERS,
    PARTS,
    SPLITS,
    ensure_members,
    member_name,
    split_characters,
)
from textrec_emnist.idx import emnist_upright, read_idx, write_idx


@pytest.fixture
def server(http_file_server):
    return http_file_server


@pytest.fixture
def data(tmp_path, monkeypatch) -> Path:
    """An empty ``TEXTREC_DATA_DIR`` and no mirror."""
    monkeypatch.setenv("TEXTREC_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("TEXTREC_DATA_MIRROR", raising=False)
    return tmp_path / "data"


def _members(tmp_path: Path) -> dict[str, bytes]:
    """Small byclass member files with the official names: member name -> gzip bytes."""
    rng = np.random.default_rng(0)
    arrays = {
        "train-images": rng.integers(0, 256, (5, 28, 28), dtype=np.uint8),
        "train-labels": np.arange(5, dtype=np.uint8),
        "test-images": rng.integers(0, 256, (3, 28, 28), dtype=np.uint8),
        "test-labels": np.array([61, 0, 36], np.uint8),
    }
    members = {}
    for part, array in arrays.items():
        write_idx(tmp_path / "member.gz", array)
        members[member_name("byclass", part)] = (tmp_path / "member.gz").read_bytes()
    return members


def _checksums(members: dict[str, bytes]) -> dict[str, tuple[int, str]]:
    return {name: (len(body), hashlib.sha256(body).hexdigest()) for name, body in members.items()}


def _zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, body in members.items():
            zf.writestr(name, body)
        zf.writestr("gzip/emnist-byclass-mapping.txt", "0 48\n")
    return buffer.getvalue()


def _all_files(root: Path) -> list[str]:
    """Every file and directory under ``root``, hidden ones included, relative to it."""
    return sorted(str(p.relative_to(root)) for p in root.rglob("*"))


def _cached_names(members: dict[str, bytes]) -> list[str]:
    return sorted(["emnist", "emnist/gzip", *(f"emnist/{name}" for name in members)])


def test_member_names_match_the_official_table():
    assert {member_name(split, part) for split in SPLITS for part in PARTS} == set(OFFICIAL_MEMBERS)
    assert member_name("byclass", "test-labels") == "gzip/emnist-byclass-test-labels-idx1-ubyte.gz"
    with pytest.raises(ArgumentError, match="^split: unknown EMNIST split 'bogus'"):
        member_name("bogus", "test-labels")
    with pytest.raises(ValueError, match="unknown EMNIST file 'valid-images'"):
        member_name("byclass", "valid-images")


def test_split_characters():
    assert split_characters("byclass") == EMNIST_CHARACTERS
    assert len(split_characters("balanced")) == len(split_characters("bymerge")) == 47
    assert split_characters("letters")[1] == "A" and len(split_characters("letters")) == 27
    assert split_characters("digits") == split_characters("mnist") == tuple("0123456789")


def test_archive_members_are_extracted_verified_and_cached(server, data, tmp_path):
    members = _members(tmp_path)
    server.serve("gzip.zip", _zip(members))
    paths = ensure_members("byclass", archive_url=server.url("gzip.zip"), checksums=_checksums(members))
    assert list(paths) == list(PARTS)
    for part, path in paths.items():
        assert path.read_bytes() == members[member_name("byclass", part)]
    assert read_idx(paths["test-labels"]).tolist() == [61, 0, 36]
    assert _all_files(data) == _cached_names(members)  # no archive, no temporary files

    server.stop()  # cached: no network needed
    assert ensure_members("byclass", archive_url=server.url("gzip.zip"), checksums=_checksums(members)) == paths
    assert server.requests == ["/gzip.zip"]


def test_a_part_request_extracts_the_whole_split(server, data, tmp_path):
    members = _members(tmp_path)
    server.serve("gzip.zip", _zip(members))
    options = dict(archive_url=server.url("gzip.zip"), checksums=_checksums(members))
    test_paths = ensure_members("byclass", parts=["test-images", "test-labels"], **options)
    assert list(test_paths) == ["test-images", "test-labels"]
    ensure_members("byclass", parts=["train-labels"], **options)
    assert server.requests == ["/gzip.zip"]
    assert _all_files(data) == _cached_names(members)


def test_corrupt_cached_member_is_fetched_again(server, data, tmp_path):
    members = _members(tmp_path)
    server.serve("gzip.zip", _zip(members))
    options = dict(archive_url=server.url("gzip.zip"), checksums=_checksums(members))
    paths = ensure_members("byclass", **options)
    paths["train-images"].write_bytes(b"garbage")
    assert ensure_members("byclass", **options) == paths
    assert paths["train-images"].read_bytes() == members[member_name("byclass", "train-images")]
    assert server.requests == ["/gzip.zip", "/gzip.zip"]
    assert _all_files(data) == _cached_names(members)


@pytest.mark.parametrize("same_size", [True, False], ids=["same-size", "other-size"])
def test_tampered_member_is_rejected_and_not_cached(server, data, tmp_path, same_size):
    members = _members(tmp_path)
    checksums = _checksums(members)
    tampered = member_name("byclass", "test-images")
    body = members[tampered]
    members[tampered] = body[:-1] + bytes([body[-1] ^ 1]) if same_size else body + b"\0"
    server.serve("gzip.zip", _zip(members))
    problem = "checksum mismatch" if same_size else "size mismatch"
    with pytest.raises(ChecksumError, match=f"{problem} for {tampered} in {server.url('gzip.zip')}"):
        ensure_members("byclass", archive_url=server.url("gzip.zip"), checksums=checksums)
    assert not (data / "emnist" / tampered).exists()
    extracted_before = [member_name("byclass", "train-images"), member_name("byclass", "train-labels")]
    assert _all_files(data) == sorted(["emnist", "emnist/gzip", *(f"emnist/{name}" for name in extracted_before)])


def test_bad_archives(server, data, tmp_path):
    members = _members(tmp_path)
    checksums = _checksums(members)
    url = server.url("gzip.zip")
    server.serve("gzip.zip", b"this is not a zip file")
    with pytest.raises(DataError, match=f"the EMNIST archive {url} is corrupt"):
        ensure_members("byclass", archive_url=url, checksums=checksums)
    incomplete = dict(members)
    del incomplete[member_name("byclass", "test-labels")]
    server.serve("gzip.zip", _zip(incomplete))
    with pytest.raises(DataError, match=f"has no member {member_name('byclass', 'test-labels')}"):
        ensure_members("byclass", archive_url=url, checksums=checksums)
    with pytest.raises(DownloadError, match="HTTP 404"):
        ensure_members("byclass", archive_url=server.url("missing.zip"), checksums=checksums)
    with pytest.raises(DataError, match="no published size and SHA-256"):
        ensure_members("balanced", archive_url=url, checksums=checksums)
    assert [p for p in _all_files(data) if "gzip/" in p or p.startswith("emnist/.")] == [
        f"emnist/{name}" for name in sorted(incomplete)
    ]


def _write_mirror(root: Path, members: dict[str, bytes]) -> None:
    for name, body in members.items():
        (root / "emnist" / name).parent.mkdir(parents=True, exist_ok=True)
        (root / "emnist" / name).write_bytes(body)
    sums = "".join(f"{hashlib.sha256(body).hexdigest()}  {name}\n" for name, body in members.items())
    (root / "emnist" / "SHA256SUMS").write_text(sums)


@pytest.mark.parametrize("kind", ["directory", "file-url", "http"])
def test_mirror(server, data, tmp_path, monkeypatch, kind):
    members = _members(tmp_path)
    mirror = tmp_path / "mirror"
    _write_mirror(mirror, members)
    if kind == "http":
        for path in mirror.rglob("*"):
            if path.is_file():
                server.serve(f"mirror/{path.relative_to(mirror).as_posix()}", path.read_bytes())
    location = {"directory": str(mirror), "file-url": mirror.as_uri(), "http": server.url("mirror")}[kind]
    monkeypatch.setenv("TEXTREC_DATA_MIRROR", location)
    paths = ensure_members("byclass", archive_url=server.url("never-used.zip"))
    for part, path in paths.items():
        assert path.read_bytes() == members[member_name("byclass", part)]
    assert _all_files(data) == _cached_names(members)
    assert "/never-used.zip" not in server.requests


def test_mirror_errors(data, tmp_path, monkeypatch):
    members = _members(tmp_path)
    mirror = tmp_path / "mirror"
    _write_mirror(mirror, members)
    monkeypatch.setenv("TEXTREC_DATA_MIRROR", str(mirror))
    with pytest.raises(DataError, match="does not list gzip/emnist-balanced-train-images-idx3-ubyte.gz"):
        ensure_members("balanced")

    name = member_name("byclass", "test-labels")
    (mirror / "emnist" / name).write_bytes(b"tampered")
    with pytest.raises(ChecksumError, match=f"checksum mismatch for .*{name}"):
        ensure_members("byclass", parts=["test-labels"])
    assert not (data / "emnist" / name).exists()

    (mirror / "emnist" / "SHA256SUMS").write_text("not a checksum list\n")
    with pytest.raises(DataError, match="SHA256SUMS, line 1"):
        ensure_members("byclass")
    (mirror / "emnist" / "SHA256SUMS").unlink()
    with pytest.raises(DataError, match="cannot read the EMNIST checksum list"):
        ensure_members("byclass")
    assert [p for p in _all_files(data) if p.startswith("emnist/")] == ["emnist/gzip"]


def test_mirror_refetches_a_corrupt_cached_member(data, tmp_path, monkeypatch):
    members = _members(tmp_path)
    _write_mirror(tmp_path / "mirror", members)
    monkeypatch.setenv("TEXTREC_DATA_MIRROR", str(tmp_path / "mirror"))
    path = ensure_members("byclass", parts=["test-images"])["test-images"]
    path.write_bytes(path.read_bytes()[:-1])
    ensure_members("byclass", parts=["test-images"])
    assert path.read_bytes() == members[member_name("byclass", "test-images")]


def test_real_mirror_byclass_test_split(mirror, tmp_path, monkeypatch):
    """The real data (``mirror`` comes from the repository's conftest.py and skips where absent)."""
    monkeypatch.setenv("TEXTREC_DATA_DIR", str(tmp_path / "data"))
    paths = ensure_members("byclass", parts=["test-images", "test-labels"])
    images = emnist_upright(read_idx(paths["test-images"], ndim=3))
    labels = read_idx(paths["test-labels"], ndim=1)
    assert images.shape == (10_000, 28, 28) and images.dtype == np.uint8
    assert labels.shape == (10_000,) and labels.min() >= 0 and labels.max() == 61

    mapping = (mirror / "emnist" / "emnist-byclass-mapping.txt").read_text()
    assert tuple(chr(int(line.split()[1])) for line in mapping.splitlines()) == split_characters("byclass")

    # Upright: a mean '1' is taller than wide; a mean 'L' has its ink on the left and at the bottom.
    ones = images[labels == EMNIST_CHARACTERS.index("1")].mean(axis=0)
    assert ones.sum(axis=1).std() < ones.sum(axis=0).std()
    ells = images[labels == EMNIST_CHARACTERS.index("L")].mean(axis=0)
    assert ells[:, :14].sum() > ells[:, 14:].sum() and ells[14:].sum() > ells[:14].sum()
