"""Reading and writing IDX files, the array format MNIST and EMNIST ship in, raw or gzip-compressed.

An IDX file is a header -- two zero bytes, a type code, the number of dimensions ``d``, then ``d``
big-endian uint32 sizes -- followed by the elements in C order, big-endian. EMNIST images are
``0x00000803`` (uint8, 3 dimensions: count, rows, columns), labels ``0x00000801`` (uint8, 1 dimension).
"""

from __future__ import annotations

import gzip
import math
import os
import struct
import zlib
from pathlib import Path

import numpy as np

from textrec_core.errors import DataError

_GZIP_MAGIC = b"\x1f\x8b"
#: IDX type code -> element type as stored (big-endian).
_TYPES: dict[int, np.dtype] = {
    0x08: np.dtype("u1"),
    0x09: np.dtype("i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_CODES: dict[np.dtype, int] = {dtype: code for code, dtype in _TYPES.items()}


def read_idx(source: str | os.PathLike[str] | bytes, *, ndim: int | None = None) -> np.ndarray:
    """The array in an IDX file (a path) or IDX bytes; gzip compression is detected by its magic bytes.

    Returns a new, writable array in native byte order. ``ndim``, when given, is the number of
    dimensions the caller requires. Raises :class:`DataError` naming the file when it cannot be
    read, its gzip data is corrupt, its header is not IDX (or has the wrong ``ndim``), or the
    payload is shorter or longer than the header's shape requires.
    """
    if isinstance(source, bytes):
        name, data = "<IDX bytes>", source
    else:
        name = os.fspath(source)
        try:
            data = Path(name).read_bytes()
        except OSError as exc:
            raise DataError(f"cannot read IDX file {name}: {exc.strerror or exc}") from exc
    unit = "bytes"
    if data[:2] == _GZIP_MAGIC:
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError, zlib.error) as exc:
            raise DataError(f"{name}: corrupt gzip data ({exc})") from exc
        unit = "decompressed bytes"
    return _parse(data, name, unit, ndim)


def _parse(data: bytes, name: str, unit: str, ndim: int | None) -> np.ndarray:
    magic = f"0x{data[:4].hex()}"
    if len(data) < 4 or data[:2] != b"\0\0" or data[2] not in _TYPES or data[3] == 0:
        codes = ", ".join(f"0x{code:02X}" for code in _TYPES)
        raise DataError(f"{name}: not an IDX file (magic {magic}; expected 0x0000, a type code of {codes}, "
                        "and at least one dimension)")
    dtype, dims = _TYPES[data[2]], data[3]
    if ndim is not None and dims != ndim:
        raise DataError(f"{name}: expected a {ndim}-dimensional IDX array, found {dims} (magic {magic})")
    header = 4 + 4 * dims
    if len(data) < header:
        raise DataError(f"{name}: truncated IDX header: expected {header} {unit}, got {len(data)}")
    shape = struct.unpack(f">{dims}I", data[4:header])
    expected = header + math.prod(shape) * dtype.itemsize
    if len(data) != expected:
        problem = "truncated IDX data" if len(data) < expected else "trailing bytes after the IDX data"
        raise DataError(f"{name}: {problem}: a {dtype.name} array of shape {shape} takes {expected} {unit}, "
                        f"got {len(data)}")
    return np.frombuffer(data, dtype=dtype, offset=header).reshape(shape).astype(dtype.newbyteorder("="))


def write_idx(path: str | os.PathLike[str], array: np.ndarray) -> None:
    """Write ``array`` (at least 1-dimensional; uint8, int8, int16, int32, float32 or float64) as an
    IDX file at ``path``, gzip-compressed (reproducibly, mtime 0) when the name ends in ``.gz``.
    Raises ``ValueError`` for other arrays."""
    array = np.asarray(array)
    code = _CODES.get(array.dtype.newbyteorder(">"))
    if code is None or array.ndim == 0:
        raise ValueError(f"IDX cannot store a {array.ndim}-dimensional {array.dtype} array")
    header = struct.pack(f">2xBB{array.ndim}I", code, array.ndim, *array.shape)
    data = header + array.astype(_TYPES[code], copy=False).tobytes()
    if os.fspath(path).endswith(".gz"):
        data = gzip.compress(data, mtime=0)
    Path(path).write_bytes(data)


def emnist_upright(images: np.ndarray) -> np.ndarray:
    """EMNIST images ``(N, H, W)`` as stored (each one transposed) turned upright.

    Returns a view (``swapaxes``), not a copy; use ``np.ascontiguousarray`` for contiguous memory.
    """
    if images.ndim != 3:
        raise ValueError(f"expected images of shape (N, H, W), got shape {images.shape}")
    return images.swapaxes(1, 2)
