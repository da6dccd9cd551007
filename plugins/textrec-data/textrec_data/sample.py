"""A labeling export made from real handwriting, for trying the labeling loop without a labeling tool.

:func:`make_sample_export` takes the lines of IAM-OnDB's **test** split (``IamOnDbDataset`` with its
default split, so a model trained on IAM-OnDB's training split has never seen them), draws each form
as a scanned notebook page (a felt pen thicker than any IAM-OnDB training style, on light, noisy,
ruled paper, each line a little rotated and sitting on a rule) and writes the pages with an export
that outlines every line, as a labeler would:

- Label Studio: a rectangle with the line's rotation, or for every third line a polygon hugging it,
  each with its transcription in a ``textarea`` result of the same id;
- Dataturks: an axis-aligned rectangle for a level line, else the polygon of its corners, with the
  transcription in ``notes``.

``missing`` of the lines (at random) get no transcription, as unfinished labeling leaves them. The
pages go to ``OUT/pages/page-<n>.png``, the export to ``OUT/export.json`` (Label Studio, page
locations as Label Studio's local files: ``/data/local-files/?d=pages/page-<n>.png``) or
``OUT/export.jsonl`` (Dataturks, plain relative paths).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from textrec_core.services.fileio import atomic_write
from textrec_data.shapes import Box

PAGE_WIDTH = 1700
LINE_HEIGHT = 72
LINE_PITCH = 118
TOP = 120
LEFT = 110
MAX_ROTATION = 2.5
PEN = 0.11
PAPER = (208, 236)
INK = 35
#: The rules of the notebook paper: gray level, thickness in pixels, height above a line box's bottom.
RULE = 150
RULE_WIDTH = 2
RULE_RISE = 8


def make_sample_export(out: Path, *, pages: int, export_format: str = "label-studio", missing: float = 0.15,
                       seed: int = 0, path: str | None = None) -> Path:
    """Write ``pages`` pages and their export under ``out`` (see the module docstring); the export's path."""
    from textrec_iam_ondb import IamOnDbDataset

    rng = np.random.default_rng(seed)
    dataset = IamOnDbDataset(path=path, fresh_train_lines=False)
    dataset.prepare()
    lines = dataset.splits["test"].lines
    forms = list(dict.fromkeys(str(form) for form in lines.forms))[:pages]
    out = Path(out)
    (out / "pages").mkdir(parents=True, exist_ok=True)
    records = []
    for n, form in enumerate(forms):
        indices = [i for i in range(len(lines)) if str(lines.forms[i]) == form]
        page, placed = _draw_page([lines.strokes(i) for i in indices], rng)
        name = f"pages/page-{n:03d}.png"
        _save_png(out / name, page)
        texts = [str(lines.texts[i]) if rng.random() >= missing else None for i in indices]
        records.append((name, page.shape, placed, texts))
    if export_format == "label-studio":
        document = json.dumps([_ls_task(n, *record) for n, record in enumerate(records)], indent=1)
        target = out / "export.json"
    else:
        document = "".join(json.dumps(_dataturks_page(*record)) + "\n" for record in records)
        target = out / "export.jsonl"
    return atomic_write(target, lambda tmp: tmp.write_text(document, encoding="utf-8"))


def _draw_page(strokes: list[list[np.ndarray]], rng: np.random.Generator) -> tuple[np.ndarray, list[Box]]:
    """A page (uint8, dark on light) holding the lines drawn from ``strokes``, and each line's box in pixels."""
    from skimage.transform import AffineTransform, warp

    from textrec_iam_ondb.rendering import Style, render_strokes

    height = TOP * 2 + LINE_PITCH * len(strokes)
    paper = rng.uniform(*PAPER)
    page = np.clip(paper + rng.normal(0, 6, (height, PAGE_WIDTH)), 0, 255)
    for row in range(len(strokes) + 1):
        rule = TOP + row * LINE_PITCH + LINE_HEIGHT - RULE_RISE
        page[rule : rule + RULE_WIDTH] = RULE
    boxes = []
    for row, line_strokes in enumerate(strokes):
        style = Style(pen_width=PEN, slant=float(rng.uniform(-0.1, 0.1)), blur=0.8)
        bright = render_strokes(line_strokes, LINE_HEIGHT, PAGE_WIDTH - 2 * LEFT, style).astype(np.float64) / 255
        box = Box(LEFT + float(rng.uniform(-20, 20)), TOP + row * LINE_PITCH + float(rng.uniform(-8, 8)),
                  bright.shape[1], bright.shape[0], float(rng.uniform(-MAX_ROTATION, MAX_ROTATION)))
        corners = box.corners()
        left, top = np.floor(corners.min(axis=0)).astype(int)
        right, bottom = np.ceil(corners.max(axis=0)).astype(int) + 1
        a = np.radians(box.rotation)
        # line pixel -> page pixel, relative to the window [top:bottom, left:right] the line covers
        to_window = AffineTransform(matrix=np.array([[np.cos(a), -np.sin(a), box.x - left],
                                                     [np.sin(a), np.cos(a), box.y - top], [0, 0, 1]]))
        ink = warp(bright, to_window.inverse, output_shape=(bottom - top, right - left), order=1, cval=0.0)
        window = page[top:bottom, left:right]
        page[top:bottom, left:right] = window * (1 - ink) + INK * ink
        boxes.append(box)
    return np.clip(np.round(page), 0, 255).astype(np.uint8), boxes


def _save_png(path: Path, image: np.ndarray) -> None:
    from PIL import Image

    atomic_write(path, lambda tmp: Image.fromarray(image).save(tmp, format="PNG"))


def _ls_task(n: int, name: str, shape: tuple[int, int], boxes: list[Box], texts: list[str | None]) -> dict:
    rows, cols = shape
    results = []
    for i, (box, text) in enumerate(zip(boxes, texts)):
        rid = f"p{n}l{i}"
        common = {"id": rid, "from_name": "bbox" if i % 3 else "poly", "to_name": "image",
                  "original_width": cols, "original_height": rows, "image_rotation": 0}
        if i % 3:
            value = {"x": 100 * box.x / cols, "y": 100 * box.y / rows, "width": 100 * box.width / cols,
                     "height": 100 * box.height / rows, "rotation": box.rotation, "rectanglelabels": ["Text"]}
            results.append({**common, "type": "rectanglelabels", "value": value})
        else:
            points = [[100 * x / cols, 100 * y / rows] for x, y in _hugging(box)]
            results.append({**common, "type": "polygonlabels", "value": {"points": points,
                                                                         "polygonlabels": ["Text"]}})
        if text is not None:
            results.append({**common, "from_name": "transcription", "type": "textarea", "value": {"text": [text]}})
    return {"id": n + 1, "data": {"image": f"/data/local-files/?d={name}"},
            "annotations": [{"id": n + 1, "result": results, "was_cancelled": False, "ground_truth": False}],
            "predictions": []}


def _hugging(box: Box) -> Iterator[tuple[float, float]]:
    """Six points around ``box``: its corners and the middles of its long sides."""
    corners = box.corners()
    top_middle, bottom_middle = (corners[0] + corners[1]) / 2, (corners[2] + corners[3]) / 2
    for x, y in (corners[0], top_middle, corners[1], corners[2], bottom_middle, corners[3]):
        yield float(x), float(y)


def _dataturks_page(name: str, shape: tuple[int, int], boxes: list[Box], texts: list[str | None]) -> dict:
    rows, cols = shape
    annotation = []
    for box, text in zip(boxes, texts):
        if abs(box.rotation) < 0.5:
            level = Box(box.x, box.y, box.width, box.height)
            points = [{"x": level.x / cols, "y": level.y / rows},
                      {"x": (level.x + level.width) / cols, "y": (level.y + level.height) / rows}]
            kind = "rectangle"
        else:
            points = [{"x": float(x) / cols, "y": float(y) / rows} for x, y in box.corners()]
            kind = "polygon"
        annotation.append({"label": ["line"], "shape": kind, "points": points, "notes": text or "",
                           "imageWidth": cols, "imageHeight": rows})
    return {"content": name, "annotation": annotation, "extras": None,
            "metadata": {"first_done_at": 0, "last_updated_at": 0, "sec_taken": 0, "last_updated_by": "sample",
                         "status": "done", "evaluation": "NONE"}}
