"""Fixtures written by the tests in IAM-OnDB's official formats: small ``lineStrokes-all.tar.gz`` and
``ascii-all.tar.gz`` archives (or their extracted folders) with clean forms and broken ones."""

from __future__ import annotations

import io
import math
import shutil
import tarfile
import tempfile
from pathlib import Path

import pytest

#: Clean forms: ``form -> CSR lines`` (each gets one line file per line).
CLEAN = {f"g{group:02d}-{number:03d}": [f"Mr . Gaitskell , the {number} a", "ab cd ef", f"line {group} ok ."]
         for group in (1, 2) for number in range(6)}
#: Lines the dataset keeps from the whole fixture: the clean forms' and the first of ``h01-001``.
KEPT_LINES = 3 * len(CLEAN) + 1
#: 2 CSR lines, 3 line files: skipped with a warning naming it.
MISMATCHED = "h01-000x"


def line_xml(seed: int, *, points: int = 40) -> bytes:
    """A line file in the official layout: three wavy strokes and a dot."""
    strokes = []
    for s in range(3):
        pts = "".join(f'      <Point x="{1000 + 300 * s + 6 * i}" y="{1200 + int(60 * math.sin(i / 3 + seed))}" '
                      f'time="{i * 0.01:.2f}"/>\n' for i in range(points))
        strokes.append(f'    <Stroke colour="black" start_time="0" end_time="1">\n{pts}    </Stroke>\n')
    strokes.append('    <Stroke colour="black" start_time="1" end_time="1">\n'
                   '      <Point x="1900" y="1150" time="1.00"/>\n    </Stroke>\n')
    return ('<?xml version="1.0" encoding="ISO-8859-1"?>\n<WhiteboardCaptureSession>\n'
            '  <WhiteboardDescription>\n    <SensorLocation corner="top_left"/>\n  </WhiteboardDescription>\n'
            f'  <StrokeSet>\n{"".join(strokes)}  </StrokeSet>\n</WhiteboardCaptureSession>\n').encode("iso-8859-1")


def ascii_txt(lines: list[str]) -> bytes:
    return ("OCR:\n\nthe printed prompt\n\nCSR:\n\n" + "\n".join(lines) + "\n").encode("iso-8859-1")


def fixture_files() -> dict[str, bytes]:
    """``archive member name -> bytes`` of both archives (names start with lineStrokes/ or ascii/)."""
    files: dict[str, bytes] = {}

    def form(name: str, texts: list[str] | None, line_files: list[bytes]) -> None:
        group, folder = name[:3], name[:7]
        if texts is not None:
            files[f"ascii/{group}/{folder}/{name}.txt"] = ascii_txt(texts)
        for number, data in enumerate(line_files, 1):
            files[f"lineStrokes/{group}/{folder}/{name}-{number:02d}.xml"] = data

    for i, (name, texts) in enumerate(CLEAN.items()):
        form(name, texts, [line_xml(i * 3 + j) for j in range(len(texts))])
    form(MISMATCHED, ["one", "two"], [line_xml(1), line_xml(2), line_xml(3)])
    form("h01-001", ["kept line", "bad xml line"], [line_xml(4), b"<WhiteboardCaptureSession><StrokeSet>"])
    form("h01-002", ["caf\xe9 au lait"], [line_xml(5)])  # a character outside the alphabet
    form("h01-003", ["text only"], [])  # transcribed, never recorded
    form("h01-004", ["x" * 80], [line_xml(6)])  # longer than max_length
    return files


def write_archives(folder: Path) -> Path:
    """Write ``lineStrokes-all.tar.gz`` and ``ascii-all.tar.gz`` of the fixture into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    for archive, prefix in (("lineStrokes-all.tar.gz", "lineStrokes/"), ("ascii-all.tar.gz", "ascii/")):
        with tarfile.open(folder / archive, "w:gz") as tar:
            for name, data in sorted(fixture_files().items()):
                if name.startswith(prefix):
                    info = tarfile.TarInfo(name)
                    info.size = len(data)
                    tar.addfile(info, io.BytesIO(data))
    return folder


def write_folders(folder: Path) -> Path:
    """Write the fixture as the extracted ``lineStrokes/`` and ``ascii/`` folders into ``folder``."""
    for name, data in fixture_files().items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(data)
    return folder


@pytest.fixture(scope="session")
def archives(tmp_path_factory) -> Path:
    """A folder holding the fixture's two archives."""
    return write_archives(tmp_path_factory.mktemp("iam-ondb-archives"))


@pytest.fixture
def folders(tmp_path) -> Path:
    """A folder holding the fixture as extracted ``lineStrokes/`` and ``ascii/`` folders."""
    return write_folders(tmp_path / "extracted")


@pytest.fixture(scope="session")
def facts() -> dict[str, object]:
    """What the fixture holds: ``kept_lines`` (lines a dataset keeps), ``mismatched`` (the form skipped
    for its counts), ``archive_bytes`` (archive name -> bytes, for serving)."""
    folder = write_archives(Path(tempfile.mkdtemp(prefix="iam-ondb-served-")))
    archive_bytes = {path.name: path.read_bytes() for path in folder.iterdir()}
    shutil.rmtree(folder)
    return {"kept_lines": KEPT_LINES, "mismatched": MISMATCHED, "archive_bytes": archive_bytes}
