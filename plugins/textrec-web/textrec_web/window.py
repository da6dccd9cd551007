"""A sliding window shared by processes: the last ``size`` rows of ``width`` numbers, in one file.

Every process and thread that appends to the window or reads it opens the file and holds an
exclusive ``fcntl.flock`` of it meanwhile (a lock of each opening, so threads exclude one another
too): an append and what the caller decides from the window after it are one step for all of
gunicorn's workers.

Layout, little-endian: a header (the magic ``TXDW``, uint32 ``size``, uint32 ``width``, uint64
``count``: the rows ever appended), ``width`` flag bytes (one per column, kept for the caller), then
``size`` slots of ``width`` float64; row number ``i`` (from 0) is in slot ``i % size``. An append
writes its slot, then the header, so a process killed between the two leaves the window as it
was. A file whose header is not such a window's of this size and width is started afresh (empty).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import struct
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np

MAGIC = b"TXDW"
HEADER = struct.Struct("<4sIIQ")
ROW_TYPE = np.dtype("<f8")


class WindowView:
    """The window while its lock is held (see :meth:`SharedWindow.locked`)."""

    def __init__(self, fd: int, size: int, width: int) -> None:
        self._fd, self.size, self.width = fd, size, width
        self._flags_at = HEADER.size
        self._slots_at = HEADER.size + width
        header = os.pread(fd, self._slots_at, 0)
        if len(header) == self._slots_at and HEADER.unpack_from(header)[:3] == (MAGIC, size, width):
            self.count: int = HEADER.unpack_from(header)[3]
            self._flags = [bool(b) for b in header[self._flags_at :]]
        else:
            self.count, self._flags = 0, [False] * width
            os.ftruncate(fd, 0)
            os.pwrite(fd, HEADER.pack(MAGIC, size, width, 0) + bytes(width), 0)
            os.ftruncate(fd, self._slots_at + size * width * ROW_TYPE.itemsize)

    @property
    def full(self) -> bool:
        """Whether ``size`` rows have been appended."""
        return self.count >= self.size

    def rows(self) -> np.ndarray:
        """The rows in the window, ``(min(count, size), width)``, oldest first."""
        data = os.pread(self._fd, self.size * self.width * ROW_TYPE.itemsize, self._slots_at)
        slots = np.frombuffer(data, dtype=ROW_TYPE).reshape(self.size, self.width)
        if not self.full:
            return slots[: self.count].copy()
        start = self.count % self.size
        return np.concatenate([slots[start:], slots[:start]])

    def append(self, row: Sequence[float]) -> None:
        """Add ``row`` (``width`` numbers), pushing the oldest out of a full window."""
        values = np.asarray(row, dtype=ROW_TYPE)
        if values.shape != (self.width,):
            raise ValueError(f"expected {self.width} numbers, got shape {values.shape}")
        slot = self.count % self.size
        os.pwrite(self._fd, values.tobytes(), self._slots_at + slot * self.width * ROW_TYPE.itemsize)
        self.count += 1
        os.pwrite(self._fd, HEADER.pack(MAGIC, self.size, self.width, self.count), 0)

    def flag(self, column: int) -> bool:
        return self._flags[column]

    def set_flag(self, column: int, value: bool) -> None:
        self._flags[column] = value
        os.pwrite(self._fd, bytes([value]), self._flags_at + column)


class SharedWindow:
    """The window in the file at ``path`` (created when missing): ``size`` rows of ``width`` numbers."""

    def __init__(self, path: Path, size: int, width: int) -> None:
        if size < 1 or width < 1:
            raise ValueError(f"a window needs a positive size and width, got {size} and {width}")
        self.path, self.size, self.width = Path(path), size, width

    @contextlib.contextmanager
    def locked(self) -> Iterator[WindowView]:
        """The window, under its exclusive lock until the block ends."""
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield WindowView(fd, self.size, self.width)
        finally:
            os.close(fd)  # releases the lock
