"""Corrected readings stored as labeled lines in a folder in IAM's layout (``POST /v1/corrections``).

The folder is one :class:`textrec_iam.IamLinesDataset` reads (``path=FOLDER, split="all"``), written
with :mod:`textrec_iam.layout`:

- ``lines/w00/w00-000/w00-000-00.png`` (:func:`~textrec_iam.layout.image_path`): the image as
  received, 8-bit grayscale, dark ink on light paper as IAM's crops are: an image the predictor's
  polarity rule (:func:`textrec_core.services.images.ink_bright`) takes for light ink on dark is
  inverted, any other is kept as it is;
- ``ascii/lines.txt`` (:data:`~textrec_iam.layout.LINES_TXT`): one row a line
  (:func:`~textrec_iam.layout.lines_txt_row`), in UTF-8, the encoding the reader decodes first.

Line ids are ``w`` (a group letter IAM does not use, so corrections never collide with IAM's own
lines) and a counter ``n``: group ``n // 100000``, form ``(n // 100) % 1000``, line ``n % 100``;
``w00-000-00`` to ``w00-000-99``, then ``w00-001-00``: 100 lines a form folder, 10 million in all.
The next ``n`` follows the largest ``w`` id in ``lines.txt``.

Writers (gunicorn's worker processes, a server's threads) take turns under an exclusive
``fcntl.flock`` of ``ascii/lines.txt.lock``: the id allocation, the size check and both writes
happen under it, so no two corrections get one id and no two pass the cap together. The image is
written first, then ``lines.txt`` with the new row, each atomically (a temporary file renamed into
place): a reader never sees a half-written file, nor a row whose image is not whole. A crash
between the two leaves an image without a row, whose id the next correction takes (overwriting it).

The cap counts every file in the folder (whatever put it there) plus the new image and row.
"""

from __future__ import annotations

import contextlib
import fcntl
import io
import os
import re
import unicodedata
from collections.abc import Iterator
from pathlib import Path

import numpy as np
from PIL import Image

from textrec_core.services.fileio import atomic_write
from textrec_core.services.images import ink_bright
from textrec_iam.layout import LINES_TXT, image_path, lines_txt_row
from textrec_iam.transcription import line_text
from textrec_web.errors import ApiError
from textrec_web.settings import MIB, Settings, SettingsError

#: The longest text stored, in characters as the dataset reads it: ``IamLinesDataset``'s default
#: ``max_length``, so every stored line is read with the default arguments.
MAX_TEXT_CHARS = 100
#: The encoding of ``lines.txt``: what ``textrec_iam`` decodes it with.
ENCODING = "utf-8"
LOCK_FILE = LINES_TXT + ".lock"
#: The ids this store gives: ``w<group>-<form>-<line>``.
CORRECTION_ID = re.compile(r"w(\d\d)-(\d\d\d)-(\d\d)")
#: How many ids there are: 100 groups of 1000 forms of 100 lines.
CAPACITY = 100 * 1000 * 100
#: Unicode categories a one-line text cannot hold: control characters (line feed, tab, ...) and
#: the line and paragraph separators.
UNWRITABLE_CATEGORIES = frozenset({"Cc", "Zl", "Zp"})


def check_text(text: str) -> str:
    """``text`` as the dataset will read it back (its words in IAM's spelling:
    :func:`textrec_iam.transcription.line_text`), after refusing what a row of ``lines.txt`` cannot
    carry. Raises :class:`ApiError` (400): ``invalid_text`` for a ``|``, a line break or another
    control character; ``empty_text`` for no words;
    ``text_too_long`` past :data:`MAX_TEXT_CHARS`."""
    if "|" in text:
        raise ApiError(400, "invalid_text", "the text holds '|': IAM's lines.txt separates words with it, so a "
                       "text cannot hold one")
    unwritable = sorted({ch for ch in text if unicodedata.category(ch) in UNWRITABLE_CATEGORIES})
    if unwritable:
        raise ApiError(400, "invalid_text", "the text holds a line break or another control character "
                       f"({', '.join(f'U+{ord(ch):04X}' for ch in unwritable)}): a correction is one line of text")
    stored = line_text(text.split())
    if not stored:
        raise ApiError(400, "empty_text", "the text is empty: give the line's words as written")
    if len(stored) > MAX_TEXT_CHARS:
        raise ApiError(400, "text_too_long", f"the text has {len(stored)} characters; a line holds at most "
                       f"{MAX_TEXT_CHARS}")
    return stored


def on_paper(image: np.ndarray) -> np.ndarray:
    """A 2-D uint8 grayscale image as dark ink on light paper: inverted when the predictor's polarity
    rule takes it for light ink on dark, else unchanged."""
    bright_ink = ink_bright(image.astype(np.float32) / 255)
    return np.rint((1 - bright_ink) * 255).astype(np.uint8)


def correction_id(number: int) -> str:
    """The line id of the ``number``-th correction (from 0; below :data:`CAPACITY`)."""
    return f"w{number // 100_000:02d}-{number // 100 % 1000:03d}-{number % 100:02d}"


def next_number(lines_txt: str) -> int:
    """One past the largest correction id among the rows of ``lines_txt`` (0 when it has none)."""
    numbers = [-1]
    for row in lines_txt.splitlines():
        match = CORRECTION_ID.fullmatch(row.split(" ", 1)[0])
        if match:
            group, form, line = map(int, match.groups())
            numbers.append(group * 100_000 + form * 100 + line)
    return max(numbers) + 1


def folder_bytes(folder: Path) -> int:
    """The total size of the files under ``folder``."""
    total = 0
    for root, _, files in os.walk(folder):
        for name in files:
            with contextlib.suppress(FileNotFoundError):  # removed by someone else meanwhile
                total += os.lstat(os.path.join(root, name)).st_size
    return total


class CorrectionStore:
    """The corrections folder (see the module docstring), holding at most ``max_bytes`` in all.

    Construction creates the folder and its lock file, so a folder the server cannot write is
    refused at start-up: :class:`~textrec_web.settings.SettingsError` naming it and the
    ``setting`` that named it. (The low-confidence folder, :mod:`textrec_web.low_confidence`, is
    such a store too.)"""

    def __init__(self, folder: Path, max_bytes: int, setting: str = "corrections_dir") -> None:
        self.folder = Path(folder)
        self.max_bytes = max_bytes
        self.lines_txt = self.folder / LINES_TXT
        self.lock_path = self.folder / LOCK_FILE
        try:
            self.lock_path.parent.mkdir(parents=True, exist_ok=True)
            self.lock_path.touch()
        except OSError as exc:
            raise SettingsError(f"{setting} {str(self.folder)!r}: cannot write there: "
                                f"{exc.strerror or exc}") from None

    @classmethod
    def from_settings(cls, settings: Settings) -> CorrectionStore | None:
        """The store of ``settings.corrections_dir``, or None when corrections are off."""
        if settings.corrections_dir is None:
            return None
        return cls(Path(settings.corrections_dir), settings.corrections_max_mb * MIB)

    def add(self, image: np.ndarray, text: str) -> str:
        """Store ``image`` (2-D uint8 grayscale) labeled ``text`` (as :func:`check_text` returns it) and
        return its line id. Raises :class:`ApiError` ``corrections_full`` (507) when the folder would
        pass ``max_bytes`` or has no ids left; then nothing is written."""
        paper = on_paper(image)
        buffer = io.BytesIO()
        Image.fromarray(paper).save(buffer, format="PNG")
        png = buffer.getvalue()
        with self._locked():
            rows = self.lines_txt.read_bytes() if self.lines_txt.is_file() else b""
            number = next_number(rows.decode(ENCODING))
            if number >= CAPACITY:
                raise ApiError(507, "corrections_full", f"the corrections folder has used all {CAPACITY} line ids")
            line_id = correction_id(number)
            if rows and not rows.endswith(b"\n"):
                rows += b"\n"
            row = (lines_txt_row(line_id, text, width=paper.shape[1], height=paper.shape[0]) + "\n").encode(ENCODING)
            used, needed = folder_bytes(self.folder), len(png) + len(row)
            if used + needed > self.max_bytes:
                raise ApiError(507, "corrections_full", f"the corrections folder is full: it holds {used} bytes and "
                               f"this correction needs {needed} more, past its cap of {self.max_bytes / MIB:g} MiB "
                               "(corrections_max_mb)")
            atomic_write(self.folder / image_path(line_id), lambda tmp: tmp.write_bytes(png))
            atomic_write(self.lines_txt, lambda tmp: tmp.write_bytes(rows + row))
        return line_id

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        """Hold the folder's exclusive lock (released when the file is closed)."""
        with self.lock_path.open("a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            yield
