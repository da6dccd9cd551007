"""Reading IAM-OnDB: pen strokes of each line file paired with its line of the form's transcription.

Layout (as in the official archives, and the extracted folders):

- ``lineStrokes/<g>/<g-nnn>/<form>-<nn>.xml``: one text line, ISO-8859-1 XML, a ``<StrokeSet>`` of
  ``<Stroke>`` elements each holding ``<Point x= y= .../>`` in board units (y grows downwards);
- ``ascii/<g>/<g-nnn>/<form>.txt``: the form's transcription, whose ``CSR:`` section has one
  text line per line file, in order (``<form>-01.xml`` is the first).

Pairing (:func:`read_lines`): a form whose CSR line count differs from its number of line files
is skipped with one warning naming it; a form with a transcription but no line file at all (the
archives transcribe more forms than they record) is only counted. A line file that is not
well-formed XML or holds no point is skipped with a warning naming it (its CSR line with it).
Texts are normalised by :func:`textrec_lines.transcription.normalize_transcription`.
Consecutive repeated points (the pen resting) are dropped.
"""

from __future__ import annotations

import logging
import re
import tarfile
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import attrs
import numpy as np

from textrec_core.errors import DataError
from textrec_iam_ondb.sources import Source
from textrec_lines.transcription import normalize_transcription

logger = logging.getLogger(__name__)

_LINE_FILE = re.compile(r"(?:.*/)?lineStrokes/[^/]+/[^/]+/(?P<form>[^/]+)-(?P<number>\d+)\.xml")
_TEXT_FILE = re.compile(r"(?:.*/)?ascii/[^/]+/[^/]+/(?P<form>[^/]+)\.txt")


@attrs.frozen(eq=False)
class StrokeLines:
    """Lines as strokes, flat: line ``i``'s strokes are ``stroke_offsets[line_offsets[i]:line_offsets[i+1]+1]``
    boundaries into ``points`` ``(P, 2)`` int32 ``(x, y)``; ``texts`` (normalised) and ``forms`` per line."""

    points: np.ndarray
    stroke_offsets: np.ndarray
    line_offsets: np.ndarray
    texts: np.ndarray
    forms: np.ndarray

    def __len__(self) -> int:
        return len(self.texts)

    def strokes(self, index: int) -> list[np.ndarray]:
        """The strokes of line ``index``, each a ``(n, 2)`` view of ``points``."""
        bounds = self.stroke_offsets[self.line_offsets[index] : self.line_offsets[index + 1] + 1]
        return [self.points[start:end] for start, end in zip(bounds[:-1], bounds[1:])]

    def line_points(self, index: int) -> np.ndarray:
        """All points of line ``index`` ``(n, 2)``."""
        start, end = self.stroke_offsets[self.line_offsets[index]], self.stroke_offsets[self.line_offsets[index + 1]]
        return self.points[start:end]

    def subset(self, indices: np.ndarray) -> StrokeLines:
        """The lines at ``indices``, in that order."""
        return from_lines([(self.strokes(i), str(self.texts[i]), str(self.forms[i])) for i in indices])

    def arrays(self) -> dict[str, np.ndarray]:
        return attrs.asdict(self, recurse=False)


def from_lines(lines: list[tuple[list[np.ndarray], str, str]]) -> StrokeLines:
    """Pack ``(strokes, text, form)`` triples into a :class:`StrokeLines`."""
    strokes = [stroke for line, _, _ in lines for stroke in line]
    stroke_offsets = np.zeros(len(strokes) + 1, dtype=np.int64)
    np.cumsum([len(s) for s in strokes], out=stroke_offsets[1:])
    line_offsets = np.zeros(len(lines) + 1, dtype=np.int64)
    np.cumsum([len(line) for line, _, _ in lines], out=line_offsets[1:])
    points = np.concatenate(strokes) if strokes else np.zeros((0, 2), dtype=np.int32)
    return StrokeLines(points.astype(np.int32), stroke_offsets, line_offsets,
                       np.array([t for _, t, _ in lines], dtype=str), np.array([f for _, _, f in lines], dtype=str))


def parse_strokes(data: bytes) -> list[np.ndarray]:
    """The strokes of one line file, each ``(n, 2)`` int32; ``ValueError`` for bad XML or no point."""
    try:
        root = ET.fromstring(data)
    except ET.ParseError as exc:
        raise ValueError(f"not well-formed XML ({exc})") from None
    strokes = []
    for stroke in root.iter("Stroke"):
        try:
            xy = np.array([(float(p.attrib["x"]), float(p.attrib["y"])) for p in stroke.iter("Point")])
        except (KeyError, ValueError) as exc:
            raise ValueError(f"a Point without numeric x and y ({exc})") from None
        if len(xy):
            keep = np.ones(len(xy), dtype=bool)
            keep[1:] = np.any(xy[1:] != xy[:-1], axis=1)
            strokes.append(np.rint(xy[keep]).astype(np.int32))
    if not strokes:
        raise ValueError("no <Point> in any <Stroke>")
    return strokes


def csr_lines(text: str) -> list[str]:
    """The lines of the ``CSR:`` section of a form's transcription (blank lines around it dropped)."""
    _, marker, csr = text.partition("CSR:")
    if not marker:
        raise ValueError("no CSR: section")
    lines = csr.strip("\n").splitlines()
    while lines and not lines[0].strip():
        lines.pop(0)
    while lines and not lines[-1].strip():
        lines.pop()
    return lines


def _members(root: Path, kind: str) -> Iterator[tuple[str, bytes]]:
    """``(name, bytes)`` of every file in a tar.gz archive (streamed) or under a folder."""
    if kind == "folders":
        for path in sorted(root.rglob("*")):
            if path.is_file():
                yield f"{root.name}/{path.relative_to(root).as_posix()}", path.read_bytes()
        return
    try:
        with tarfile.open(root, mode="r|gz") as archive:
            for member in archive:
                if member.isfile():
                    stream = archive.extractfile(member)
                    if stream is not None:
                        yield member.name, stream.read()
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise DataError(f"cannot read the IAM-OnDB archive {root}: {exc}") from exc


def read_lines(source: Source) -> StrokeLines:
    """Every line of ``source`` whose form pairs cleanly, with its normalised text (see module docstring)."""
    transcriptions: dict[str, list[str]] = {}
    for name, data in _members(source.ascii, source.kind):
        match = _TEXT_FILE.fullmatch(name)
        if match:
            try:
                transcriptions[match["form"]] = csr_lines(data.decode("iso-8859-1"))
            except ValueError as exc:
                logger.warning("IAM-OnDB: skipping form %s: %s", match["form"], exc)
    line_files: dict[str, dict[int, list[np.ndarray] | None]] = {}
    for name, data in _members(source.strokes, source.kind):
        match = _LINE_FILE.fullmatch(name)
        if match is None:
            continue
        try:
            strokes: list[np.ndarray] | None = parse_strokes(data)
        except ValueError as exc:
            logger.warning("IAM-OnDB: skipping line file %s: %s", name, exc)
            strokes = None
        line_files.setdefault(match["form"], {})[int(match["number"])] = strokes
    if not transcriptions or not line_files:
        raise DataError(f"no IAM-OnDB {'transcriptions' if not transcriptions else 'line files'} found in "
                        f"{source.ascii if not transcriptions else source.strokes}")
    lines, text_only = [], 0
    for form in sorted(transcriptions):
        texts, files = transcriptions[form], line_files.get(form)
        if files is None:
            text_only += 1
            continue
        if len(files) != len(texts):
            logger.warning("IAM-OnDB: skipping form %s: %d CSR lines but %d line files", form, len(texts), len(files))
            continue
        for (_, strokes), text in zip(sorted(files.items()), texts):
            if strokes is not None:
                lines.append((strokes, normalize_transcription(text), form))
    unpaired = len(set(line_files) - set(transcriptions))
    logger.info("IAM-OnDB: %d lines kept from %d forms; %d forms without line files, %d without a transcription",
                len(lines), len({form for _, _, form in lines}), text_only, unpaired)
    return from_lines(lines)
