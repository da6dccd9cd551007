"""Parsing IAM's ``ascii/lines.txt``.

Lines starting with ``#`` are comments and blank lines are ignored. Every other line has 9
space-separated fields (the 9th, the transcription, is everything after the 8th field, so a token
holding a space survives)::

    a01-000u-00 ok 154 19 408 746 1661 89 A|MOVE|to|stop|Mr.|Gaitskell|from

line id, word segmentation (``ok`` or ``err``: the transcription is valid either way, so both are
kept), gray level, number of components, bounding box x y w h, ``|``-separated word tokens.
Anything else is a :class:`~textrec_core.errors.DataError` naming the file and the line number.
"""

from __future__ import annotations

from collections.abc import Iterable

import attrs

from textrec_core.errors import DataError
from textrec_iam.layout import LINE_ID, form_of, image_path
from textrec_iam.transcription import line_text

_SEGMENTATIONS = ("ok", "err")


@attrs.frozen
class LineRecord:
    """One line of ``lines.txt``: ``text`` is the transcription as :func:`~textrec_iam.transcription.line_text`
    joins its tokens; ``box`` is ``(x, y, w, h)`` in form pixels."""

    line_id: str
    segmentation: str
    gray_level: int
    components: int
    box: tuple[int, int, int, int]
    text: str

    @property
    def form_id(self) -> str:
        """The form the line belongs to (``a01-000u`` for ``a01-000u-00``)."""
        return form_of(self.line_id)

    @property
    def image_path(self) -> str:
        """The line image's path in IAM's layout, relative to the folder holding ``lines/``."""
        return image_path(self.line_id)


def parse_lines_txt(lines: Iterable[str], *, origin: str = "lines.txt") -> list[LineRecord]:
    """Every data line of a ``lines.txt`` (given as its text lines), in file order.

    Raises :class:`DataError` naming ``origin`` and the 1-based line number for a line without 9
    fields, a malformed line id, an unknown segmentation result, a non-integer number or a line
    id seen twice.
    """
    records: list[LineRecord] = []
    seen: set[str] = set()
    for number, raw in enumerate(lines, 1):
        line = raw.rstrip("\r\n")
        if not line.strip() or line.startswith("#"):
            continue
        record = _parse_line(line, where=f"{origin}, line {number}")
        if record.line_id in seen:
            raise DataError(f"{origin}, line {number}: line id {record.line_id} appears twice")
        seen.add(record.line_id)
        records.append(record)
    return records


def _parse_line(line: str, *, where: str) -> LineRecord:
    fields = line.split(" ", 8)
    if len(fields) != 9:
        raise DataError(f"{where}: expected 9 space-separated fields, got {len(fields)}: {line!r}")
    line_id, segmentation, *numbers, transcription = fields
    if not LINE_ID.fullmatch(line_id):
        raise DataError(f"{where}: malformed line id {line_id!r} (expected e.g. a01-000u-00)")
    if segmentation not in _SEGMENTATIONS:
        raise DataError(f"{where}: segmentation result must be 'ok' or 'err', got {segmentation!r}")
    try:
        gray, components, x, y, w, h = (int(n) for n in numbers)
    except ValueError:
        raise DataError(f"{where}: fields 3 to 8 must be integers, got {' '.join(numbers)!r}") from None
    return LineRecord(line_id, segmentation, gray, components, (x, y, w, h), line_text(transcription.split("|")))
