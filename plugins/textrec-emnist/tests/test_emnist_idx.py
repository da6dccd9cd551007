"""IDX reading and writing: round trips, header and payload validation, EMNIST transposition."""

from __future__ import annotations

import gzip
import struct

import numpy as np
import pytest

from textrec_core.errors import DataError
from textrec_emnist.idx import emnist_upright, read_idx, write_idx


@pytest.mark.parametrize("compressed", [False, True], ids=["raw", "gzip"])
@pytest.mark.parametrize("shape", [(7,), (3, 5), (2, 28, 28), (2, 1, 3, 4)])
@pytest.mark.parametrize("dtype", ["u1", "i1", "<i2", ">i2", "i4", "f4", "f8"])
def test_round_trip(tmp_path, dtype, shape, compressed):
    rng = np.random.default_rng(0)
    array = (rng.standard_normal(shape) * 100).astype(dtype)
    path = tmp_path / ("array.idx.gz" if compressed else "array.idx")
    write_idx(path, array)
    assert (path.read_bytes()[:2] == b"\x1f\x8b") == compressed
    for source in (path, str(path), path.read_bytes()):
        loaded = read_idx(source)
        assert loaded.shape == shape
        assert loaded.dtype == np.dtype(dtype).newbyteorder("=")
        assert loaded.flags.writeable
        np.testing.assert_array_equal(loaded, array)


def test_emnist_headers(tmp_path):
    write_idx(tmp_path / "images", np.zeros((3, 28, 28), np.uint8))
    write_idx(tmp_path / "labels", np.arange(3, dtype=np.uint8))
    assert (tmp_path / "images").read_bytes()[:16] == struct.pack(">IIII", 0x803, 3, 28, 28)
    assert (tmp_path / "labels").read_bytes() == struct.pack(">II", 0x801, 3) + bytes([0, 1, 2])
    assert read_idx(tmp_path / "images", ndim=3).shape == (3, 28, 28)
    with pytest.raises(DataError, match="labels: expected a 3-dimensional IDX array, found 1"):
        read_idx(tmp_path / "labels", ndim=3)


def test_gzip_is_detected_by_content_not_name(tmp_path):
    array = np.arange(10, dtype=np.uint8)
    write_idx(tmp_path / "a.gz", array)
    (tmp_path / "plain-name").write_bytes((tmp_path / "a.gz").read_bytes())
    np.testing.assert_array_equal(read_idx(tmp_path / "plain-name"), array)


@pytest.mark.parametrize(
    "data, problem",
    [
        (b"\x01\x00\x08\x01\x00\x00\x00\x01\x05", "not an IDX file"),
        (b"\x00\x00\x0a\x01\x00\x00\x00\x01\x05", "not an IDX file"),  # unknown type code
        (b"\x00\x00\x08\x00", "not an IDX file"),  # zero dimensions
        (b"\x00\x00", "not an IDX file"),
        (b"\x00\x00\x08\x03\x00\x00\x00\x01", "truncated IDX header: expected 16 bytes, got 8"),
    ],
)
def test_bad_headers(tmp_path, data, problem):
    path = tmp_path / "bad.idx"
    path.write_bytes(data)
    with pytest.raises(DataError, match=f"{path}: {problem}"):
        read_idx(path)


@pytest.mark.parametrize("compressed", [False, True], ids=["raw", "gzip"])
def test_truncated_and_trailing_payload(tmp_path, compressed):
    path = tmp_path / "images.idx"
    write_idx(path, np.zeros((2, 28, 28), np.uint8))
    good = path.read_bytes()  # 16 + 1568 bytes
    unit = "decompressed bytes" if compressed else "bytes"
    for data, problem, actual in [(good[:-1], "truncated IDX data", 1583), (good + b"\0\0", "trailing bytes", 1586)]:
        path.write_bytes(gzip.compress(data) if compressed else data)
        with pytest.raises(DataError, match=f"{path}: {problem}.*takes 1584 {unit}, got {actual}"):
            read_idx(path)


def test_corrupt_gzip(tmp_path):
    path = tmp_path / "images.idx.gz"
    write_idx(path, np.arange(4000, dtype=np.int32))
    good = path.read_bytes()
    for bad in (good[: len(good) // 2], good[:40] + bytes(b ^ 0xFF for b in good[40:60]) + good[60:]):
        path.write_bytes(bad)
        with pytest.raises(DataError, match=f"{path}: corrupt gzip data"):
            read_idx(path)


def test_missing_file(tmp_path):
    with pytest.raises(DataError, match="cannot read IDX file .*missing.idx"):
        read_idx(tmp_path / "missing.idx")


@pytest.mark.parametrize("array", [np.zeros(3, np.uint16), np.zeros(3, bool), np.zeros(3, np.int64), np.uint8(1)])
def test_write_rejects_what_idx_cannot_store(tmp_path, array):
    with pytest.raises(ValueError, match="IDX cannot store"):
        write_idx(tmp_path / "x.idx", array)


def test_emnist_upright_undoes_the_stored_transposition(tmp_path):
    letter_l = np.zeros((28, 28), np.uint8)
    letter_l[4:22, 8] = 255  # the stem, on the left
    letter_l[21, 8:18] = 255  # the foot, at the bottom
    path = tmp_path / "images.idx.gz"
    write_idx(path, np.stack([letter_l.T, letter_l.T[::-1]]))  # as EMNIST stores them: transposed
    upright = emnist_upright(read_idx(path, ndim=3))
    np.testing.assert_array_equal(upright[0], letter_l)
    np.testing.assert_array_equal(upright[1], letter_l[:, ::-1])
    assert upright[0, 21, 17] == 255 and upright[0, 17, 21] == 0
    with pytest.raises(ValueError, match=r"\(N, H, W\)"):
        emnist_upright(letter_l)


def test_emnist_upright_is_a_view():
    images = np.zeros((2, 28, 28), np.uint8)
    upright = emnist_upright(images)
    assert np.shares_memory(upright, images)
    upright[0, 1, 2] = 7
    assert images[0, 2, 1] == 7
