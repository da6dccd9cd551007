"""Turning an export's pages and their images into line images with texts, through the quality gates.

Transcriptions are spelled by the rule every textrec line dataset shares
(:func:`textrec_lines.transcription.normalize_transcription`), so what is imported is what a
dataset reads back. A region whose only fault is an empty transcription is still cut out: it is
kept apart as *unlabeled* (:attr:`Collected.unlabeled`), for the labelers to transcribe next.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Mapping

import attrs
import numpy as np

from textrec_data.crop import crop, paper_level, shape_problem
from textrec_data.exports import Export, Page, Region
from textrec_data.gates import UNLINKED, GateReport
from textrec_data.pages import PageImage
from textrec_data.shapes import Box
from textrec_lines.transcription import normalize_transcription

#: Lines a page may hold: IAM's line ids number them with two digits.
MAX_LINES_PER_PAGE = 100


@attrs.frozen
class Line:
    """One line: its page (the export's location), its region's key on that page, its text
    (None for an unlabeled region), its image (uint8, dark ink on light paper) and ``where`` for messages."""

    page: str
    region: str
    text: str | None
    image: np.ndarray = attrs.field(eq=False)
    where: str


@attrs.frozen
class Collected:
    """The lines that passed every gate (``pages`` of them in export order, each a list of its
    lines), the unlabeled regions, and the gates' report."""

    pages: list[list[Line]]
    unlabeled: list[Line]
    report: GateReport


def collect(export: Export, images: Mapping[str, PageImage], *, alphabet: Collection[str] | None = None) -> Collected:
    """Every region of ``export`` through the gates (:mod:`textrec_data.gates`), cut from its page in ``images``."""
    report = GateReport()
    for where in export.unlinked:
        report.exclude(UNLINKED, where)
    pages: list[list[Line]] = []
    unlabeled: list[Line] = []
    seen_pages: set[str] = set()
    for page in export.pages:
        image = images.get(page.location, PageImage(None, "missing_image", "not loaded"))
        gate = page.problem or image.problem
        if gate is None:
            digest = hashlib.sha256(np.ascontiguousarray(image.image).tobytes()).hexdigest()
            gate = "duplicate_page" if digest in seen_pages else None
            seen_pages.add(digest)
        if gate is not None:
            for region in page.regions:
                detail = f": {image.detail}" if gate == image.problem and image.detail else ""
                report.exclude(gate, region.where + detail)
            continue
        kept, blank = _page_lines(page, image.image, report, alphabet)
        pages.append(kept)
        unlabeled += blank
    return Collected(pages, unlabeled, report)


def _page_lines(page: Page, image: np.ndarray, report: GateReport,
                alphabet: Collection[str] | None) -> tuple[list[Line], list[Line]]:
    rows, cols = image.shape
    paper = paper_level(image)
    kept: list[Line] = []
    blank: list[Line] = []
    outlines: set[str] = set()
    for region in page.regions:
        shape = region.shape.in_pixels(cols, rows) if region.shape is not None else Box(0, 0, cols, rows)
        gate = region.problem or shape_problem(shape, cols, rows)
        outline = shape.key()
        if gate is None and outline in outlines:
            gate = "duplicate_region"
        outlines.add(outline)
        text = normalize_transcription(region.text) if region.text is not None else ""
        if gate is None:
            gate = _text_problem(text, alphabet)
        if gate is None and len(kept) >= MAX_LINES_PER_PAGE:
            gate = "too_many_lines"
        if gate == "empty_transcription" and region.problem is None:
            blank.append(Line(page.location, region.key, None, crop(image, shape, paper), region.where))
        if gate is not None:
            report.exclude(gate, _described(region, gate, text))
            continue
        kept.append(Line(page.location, region.key, text, crop(image, shape, paper), region.where))
    return kept, blank


def _text_problem(text: str, alphabet: Collection[str] | None) -> str | None:
    if not text:
        return "empty_transcription"
    if "|" in text:
        return "unwritable_text"
    if alphabet is not None and any(ch not in alphabet for ch in text):
        return "outside_alphabet"
    return None


def _described(region: Region, gate: str, text: str) -> str:
    """Where ``region`` is, with the text when the text is what failed."""
    return f"{region.where}: {text!r}" if gate in ("unwritable_text", "outside_alphabet") else region.where
