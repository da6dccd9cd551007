"""Fixtures that write IAM's files in IAM's exact formats: ``ascii/lines.txt`` with its header
comments, ``ascii/forms.txt``, PNG line crops at ``lines/<a01>/<a01-000u>/<line id>.png`` (dark
ink on light paper) and the official ``ascii.tgz`` / ``lines.tgz`` archives."""

from __future__ import annotations

import io
import tarfile
from collections.abc import Sequence
from pathlib import Path

import attrs
import numpy as np
import pytest
from PIL import Image

HEADER = """\
#--- lines.txt ---------------------------------------------------------------#
#
# iam database line information
#
# format: a01-000u-00 ok 154 19 408 746 1663 91 A|MOVE|to|stop|Mr.|Gaitskell|from
#
#     a01-000u-00  -> line id for form a01-000u
#     ok              -> result of word segmentation
#                            ok: line is correctly segmented
#                            err: segmentation of line has one or more errors
#
#     A|MOVE|to|stop|Mr.|Gaitskell|from
#                     -> transcription for this line. word tokens are separated
#                        by the character |
#
"""

FORMS_HEADER = """\
#--- forms.txt ---------------------------------------------------------------#
#
# format: a01-000u 000 2 prt 7 5 52 36
#
"""


@attrs.frozen
class FixtureLine:
    """One line of a generated IAM folder: ``tokens`` joined by ``|`` in lines.txt, a crop of
    ``width`` x ``height`` pixels unless ``image`` is False."""

    line_id: str
    tokens: Sequence[str]
    segmentation: str = "ok"
    width: int = 120
    height: int = 30
    image: bool = True

    @property
    def row(self) -> str:
        return f"{self.line_id} {self.segmentation} 180 12 357 733 {self.width} {self.height} {'|'.join(self.tokens)}"

    @property
    def image_path(self) -> str:
        group, form = self.line_id.split("-")[0], self.line_id.rsplit("-", 1)[0]
        return f"lines/{group}/{form}/{self.line_id}.png"


def line_png(width: int, height: int) -> bytes:
    """A crop of light paper (value 230) with a dark ink bar (value 20) over the left half."""
    pixels = np.full((height, width), 230, dtype=np.uint8)
    pixels[height // 4 : 3 * height // 4, : width // 2] = 20
    out = io.BytesIO()
    Image.fromarray(pixels).save(out, format="PNG")
    return out.getvalue()


def write_folder(root: Path, lines: Sequence[FixtureLine], *, extra_rows: Sequence[str] = (),
                 writers: dict[str, str] | None = None) -> Path:
    """Write an IAM folder at ``root``: lines.txt (header, each line's row, then ``extra_rows``),
    the crops, and forms.txt when ``writers`` (form id -> writer id) is given."""
    (root / "ascii").mkdir(parents=True, exist_ok=True)
    rows = [line.row for line in lines] + list(extra_rows)
    (root / "ascii" / "lines.txt").write_text(HEADER + "\n".join(rows) + "\n", encoding="iso-8859-1")
    if writers is not None:
        forms = [f"{form} {writer} 2 prt 7 5 52 36" for form, writer in writers.items()]
        (root / "ascii" / "forms.txt").write_text(FORMS_HEADER + "\n".join(forms) + "\n", encoding="ascii")
    for line in lines:
        if line.image:
            path = root / line.image_path
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(line_png(line.width, line.height))
    return root


def write_archives(folder: Path, dest: Path, *, ascii_prefix: str = "") -> Path:
    """Pack an IAM folder as FKI does: ``ascii.tgz`` holding ``<ascii_prefix>lines.txt`` (and
    forms.txt), ``lines.tgz`` holding ``a01/a01-000u/a01-000u-00.png``; returns ``dest``."""
    dest.mkdir(parents=True, exist_ok=True)
    with tarfile.open(dest / "ascii.tgz", "w:gz") as tar:
        for file in sorted((folder / "ascii").iterdir()):
            tar.add(file, arcname=f"{ascii_prefix}{file.name}")
    with tarfile.open(dest / "lines.tgz", "w:gz") as tar:
        for file in sorted((folder / "lines").rglob("*.png")):
            tar.add(file, arcname=str(file.relative_to(folder / "lines")))
    return dest


#: A small IAM folder: two forms of one group, an ``err`` line, a token holding a space.
LINES = (
    FixtureLine("a01-000u-00", ("A", "MOVE", "to", "stop", "Mr.", "Gaitskell"), width=200),
    FixtureLine("a01-000u-01", ("from", "nominating", "any", "more", "Labour"), segmentation="err", width=160),
    FixtureLine("a01-000x-00", ("M Ps", ",", "he", "said", "."), width=90, height=40),
)


class IamFixtures:
    """What the tests use to write IAM files: ``Line`` (:class:`FixtureLine`), ``LINES``,
    ``folder(lines=LINES, **kwargs)`` (a new folder under the test's ``tmp_path``, see
    :func:`write_folder`), ``archives(folder, dest, ascii_prefix="")``, ``png(width, height)`` and
    ``files(root)`` (every file under ``root``, hidden temporaries included)."""

    Line = FixtureLine
    LINES = LINES

    def __init__(self, tmp_path: Path) -> None:
        self.tmp_path = tmp_path
        self.count = 0

    def folder(self, lines: Sequence[FixtureLine] = LINES, **kwargs: object) -> Path:
        self.count += 1
        return write_folder(self.tmp_path / f"iam-{self.count}", lines, **kwargs)

    archives = staticmethod(write_archives)
    png = staticmethod(line_png)

    @staticmethod
    def files(root: Path) -> list[str]:
        return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()) if root.exists() else []


@pytest.fixture
def iam(tmp_path: Path) -> IamFixtures:
    """Writers of IAM files for one test (see :class:`IamFixtures`)."""
    return IamFixtures(tmp_path)


@pytest.fixture
def cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh, empty ``TEXTREC_DATA_DIR`` for one test; returns its ``iam`` folder (not yet created)."""
    monkeypatch.setenv("TEXTREC_DATA_DIR", str(tmp_path / "data"))
    return tmp_path / "data" / "iam"
