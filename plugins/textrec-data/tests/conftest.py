"""Fixtures of textrec-data's tests. ``lab`` gives the helpers below (pages with known ink, and exports
in both formats written by hand the way Label Studio and Dataturks write them) as attributes."""


from __future__ import annotations

import json
import sys
import types
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from textrec_data.shapes import Box

PAPER = 230
INK = 20
ROWS, COLS = 400, 600
#: The outlines drawn on the test page, in pixels: a level box, a box rotated 10 degrees, a polygon.
LEVEL = Box(50, 40, 200, 30)
ROTATED = Box(60, 120, 240, 30, 10.0)
POLYGON = ((80.0, 250.0), (300.0, 250.0), (320.0, 300.0), (60.0, 300.0))


def draw_page(path: Path, seed: int = 0) -> Path:
    """A PNG page of paper level PAPER with LEVEL, ROTATED and POLYGON filled with INK (and a few
    specks of noise placed by ``seed``, so that pages of other seeds differ)."""
    from skimage.draw import polygon

    page = np.full((ROWS, COLS), PAPER, dtype=np.uint8)
    for points in (LEVEL.corners(), ROTATED.corners(), np.array(POLYGON)):
        rr, cc = polygon(points[:, 1], points[:, 0], page.shape)
        page[rr, cc] = INK
    rng = np.random.default_rng(seed)
    page[rng.integers(350, ROWS, 5), rng.integers(0, COLS, 5)] = INK
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(page).save(path)
    return path


def ls_box(rid: str, box: Box) -> dict[str, Any]:
    """A Label Studio ``rectanglelabels`` result for ``box`` (pixels of the test page)."""
    value = {"x": 100 * box.x / COLS, "y": 100 * box.y / ROWS, "width": 100 * box.width / COLS,
             "height": 100 * box.height / ROWS, "rotation": box.rotation, "rectanglelabels": ["Text"]}
    return {"id": rid, "type": "rectanglelabels", "from_name": "bbox", "to_name": "image",
            "original_width": COLS, "original_height": ROWS, "image_rotation": 0, "value": value}


def ls_polygon(rid: str, points: tuple[tuple[float, float], ...]) -> dict[str, Any]:
    value = {"points": [[100 * x / COLS, 100 * y / ROWS] for x, y in points], "polygonlabels": ["Text"]}
    return {"id": rid, "type": "polygonlabels", "from_name": "poly", "to_name": "image",
            "original_width": COLS, "original_height": ROWS, "image_rotation": 0, "value": value}


def ls_text(rid: str, *texts: str) -> dict[str, Any]:
    return {"id": rid, "type": "textarea", "from_name": "transcription", "to_name": "image",
            "original_width": COLS, "original_height": ROWS, "value": {"text": list(texts)}}


def ls_task(task_id: int, image: str, results: list[dict[str, Any]] | None) -> dict[str, Any]:
    """A Label Studio task; ``results`` None: not annotated."""
    annotations = [] if results is None else [{"id": task_id, "result": results, "was_cancelled": False,
                                               "ground_truth": False, "completed_by": 1}]
    return {"id": task_id, "data": {"image": image}, "annotations": annotations, "predictions": []}


def three_lines(prefix: str = "r", texts: tuple[str, str, str] = ("A MOVE to stop", "Mr. Gaitskell", "from")) -> list:
    """The results outlining the test page's three shapes, each with its transcription."""
    return [ls_box(f"{prefix}1", LEVEL), ls_text(f"{prefix}1", texts[0]),
            ls_box(f"{prefix}2", ROTATED), ls_text(f"{prefix}2", texts[1]),
            ls_polygon(f"{prefix}3", POLYGON), ls_text(f"{prefix}3", texts[2])]


def write_json(path: Path, document: Any) -> Path:
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


def dataturks_page(image: str, annotations: list[dict[str, Any]], status: str = "done",
                   evaluation: str = "NONE") -> dict[str, Any]:
    return {"content": image, "annotation": annotations, "extras": None,
            "metadata": {"first_done_at": 1, "last_updated_at": 1, "sec_taken": 10, "last_updated_by": "a",
                         "status": status, "evaluation": evaluation}}


def dt_rectangle(box: Box, notes: str) -> dict[str, Any]:
    points = [{"x": box.x / COLS, "y": box.y / ROWS},
              {"x": (box.x + box.width) / COLS, "y": (box.y + box.height) / ROWS}]
    return {"label": ["line"], "shape": "rectangle", "points": points, "notes": notes,
            "imageWidth": COLS, "imageHeight": ROWS}


def dt_polygon(points: tuple[tuple[float, float], ...], notes: str) -> dict[str, Any]:
    return {"label": ["line"], "shape": "polygon", "points": [{"x": x / COLS, "y": y / ROWS} for x, y in points],
            "notes": notes, "imageWidth": COLS, "imageHeight": ROWS}


@pytest.fixture
def lab() -> types.ModuleType:
    """This module: its page and export helpers, for a test to call."""
    return sys.modules[__name__]

