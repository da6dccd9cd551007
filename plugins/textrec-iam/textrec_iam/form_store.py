"""IAM's lines cropped from the form scans, by the form XML's ``<cmp>`` boxes.

A :class:`FormStore` reads form XML (``<form id>.xml``, :mod:`textrec_iam.form_xml`) and form
scans (``<form id>.png``, ``.jpg`` or ``.jpeg``) from folders or archives, wherever they sit
inside them: FKI's ``xml.tgz`` with ``formsA-D.tgz``, ``formsE-H.tgz``, ``formsI-Z.tgz``; the FSDL
repackaging ``iamdb.zip`` (half-resolution JPEG scans and the XML in one archive); or a folder
holding ``xml/`` and the scans, extracted from either.

It serves as a :class:`~textrec_iam.stores.LineStore`: ``lines.txt`` rows are made from the XML
(segmentation, threshold, number of ``<cmp>`` boxes, the line's box, its words' texts joined by
``|``), ``forms.txt`` rows give each form's writer, and a line's image is its box padded by
:data:`CROP_PADDING` pixels on every side, cut from its form's scan. The scan's scale comes from
its size against the XML's ``width`` and ``height``, so full- and half-resolution scans both work.
A line with no ``<cmp>`` box has no image (the dataset skips it, counted); so has a line whose
form has no scan.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Collection, Iterator, Sequence
from functools import cached_property
from pathlib import Path

import numpy as np

from textrec_core.errors import DataError
from textrec_iam.archives import read_members
from textrec_iam.form_xml import FormXml, XmlLine, parse_form_xml
from textrec_iam.images import decode_image
from textrec_iam.layout import form_of

#: Pixels (at full resolution) added around a line's box on every side.
CROP_PADDING = 8
_FORM_ID = r"[a-z]\d\d-\d\d\d[a-z]?"
_XML_NAME = re.compile(rf"(?:.*/)?({_FORM_ID})\.xml")
_SCAN_NAME = re.compile(rf"(?:.*/)?({_FORM_ID})\.(?:png|jpe?g)", re.IGNORECASE)


class FormStore:
    """Form XML from ``xml_sources`` and scans from ``scan_sources`` (folders or archives; see the
    module docstring)."""

    def __init__(self, xml_sources: Sequence[Path], scan_sources: Sequence[Path]) -> None:
        self.xml_sources = [Path(p) for p in xml_sources]
        self.scan_sources = [Path(p) for p in scan_sources]

    @cached_property
    def forms(self) -> dict[str, FormXml]:
        """Every form's XML by form id; :class:`DataError` when there is none."""
        forms: dict[str, FormXml] = {}
        for source in self.xml_sources:
            for name, data in _read(source, lambda name: _XML_NAME.fullmatch(name) is not None):
                form = parse_form_xml(data, origin=f"{name} in {source}")
                forms[form.form_id] = form
        if not forms:
            raise DataError(f"no IAM form XML (<form id>.xml) was found in {self.describe()}")
        return forms

    def lines_txt(self) -> list[str]:
        return [_row(line) for form in self.forms.values() for line in form.lines]

    def forms_txt(self) -> list[str] | None:
        return [f"{form.form_id} {form.writer_id}" for form in self.forms.values()]

    def images(self, paths: Collection[str]) -> Iterator[tuple[str, np.ndarray]]:
        wanted: dict[str, list[tuple[str, XmlLine]]] = {}
        lines = {line.line_id: line for form in self.forms.values() for line in form.lines if line.box}
        for path in paths:
            line_id = Path(path).stem
            if line_id in lines:
                wanted.setdefault(form_of(line_id), []).append((path, lines[line_id]))
        for source in self.scan_sources:
            for name, data in _read(source, lambda name: _scan_form(name) in wanted):
                scan = decode_image(data, f"the form scan {name} in {source}")
                form_id = _scan_form(name)
                for path, line in wanted.pop(form_id, []):
                    crop = crop_line(scan, line.box, self.forms[form_id].size)
                    if crop is not None:
                        yield path, crop

    def lines_origin(self) -> str:
        return f"the form XML in {self.describe()}"

    def fingerprint(self) -> str:
        digest = hashlib.sha256()
        for source in dict.fromkeys(self.xml_sources + self.scan_sources):
            files = sorted(p for p in source.rglob("*") if p.is_file()) if source.is_dir() else [source]
            for file in files:
                stat = file.stat()
                digest.update(f"{file.resolve()} {stat.st_size} {stat.st_mtime_ns}\n".encode())
        return digest.hexdigest()

    def describe(self) -> str:
        return " and ".join(str(p) for p in dict.fromkeys(self.xml_sources + self.scan_sources))


def crop_line(scan: np.ndarray, box: tuple[int, int, int, int], form_size: tuple[int, int]) -> np.ndarray | None:
    """The line ``box`` (x, y, w, h in full-resolution form pixels of a form ``form_size`` (width,
    height)) padded by :data:`CROP_PADDING` and cut from ``scan`` at the scan's own resolution;
    None when nothing of it lies inside the scan."""
    scale_x, scale_y = scan.shape[1] / form_size[0], scan.shape[0] / form_size[1]
    x, y, w, h = box
    left = max(0, round((x - CROP_PADDING) * scale_x))
    top = max(0, round((y - CROP_PADDING) * scale_y))
    right = min(scan.shape[1], round((x + w + CROP_PADDING) * scale_x))
    bottom = min(scan.shape[0], round((y + h + CROP_PADDING) * scale_y))
    if right <= left or bottom <= top:
        return None
    return scan[top:bottom, left:right]


def _row(line: XmlLine) -> str:
    """The ``lines.txt`` row of ``line`` (box 0 0 0 0 when it has none)."""
    x, y, w, h = line.box or (0, 0, 0, 0)
    return (f"{line.line_id} {line.segmentation} {line.threshold} {line.components} {x} {y} {w} {h} "
            f"{'|'.join(line.tokens)}")


def _scan_form(name: str) -> str | None:
    match = _SCAN_NAME.fullmatch(name)
    return match.group(1) if match else None


def _read(source: Path, wanted: Callable[[str], bool]) -> Iterator[tuple[str, bytes]]:
    """``(name, bytes)`` of the files of a folder or an archive whose names ``wanted`` accepts."""
    if not source.is_dir():
        yield from read_members(source, wanted)
        return
    for file in sorted(source.rglob("*")):
        name = file.relative_to(source).as_posix()
        if file.is_file() and wanted(name):
            yield name, file.read_bytes()
