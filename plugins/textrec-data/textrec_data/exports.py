"""Reading labeling-tool exports into pages of outlined, transcribed lines.

Two formats, told apart by their content (:func:`read_export`):

- **Label Studio** JSON export: a JSON list of tasks. A task's page is ``data.image`` (another key
  with ``image_key``). Of its annotations, cancelled ones (``was_cancelled``) are ignored and the
  last of the others is read (one marked ``ground_truth`` first); a task with none has not been
  labeled (its regions are excluded as ``not_reviewed``). Outlines are results of type
  ``rectanglelabels``/``rectangle`` (``value`` x, y, width, height in percent of the page, and
  ``rotation`` in degrees about the top-left corner) or ``polygonlabels``/``polygon`` (``value.points``,
  ``[x, y]`` in percent). A region's transcription is the ``textarea`` result with the region's
  ``id`` (its ``value.text`` entries joined by spaces). A task with a transcription but no outline
  is one line: the whole image. A transcription whose ``id`` matches no outline in a task with
  outlines is counted as ``unlinked_transcription``.
- **Dataturks** JSON-lines export (the labs' tool): one page a line, ``content`` its image, an
  ``annotation`` list of ``{label, shape: rectangle|polygon, points, notes, imageWidth,
  imageHeight}`` with ``points`` normalised to [0, 1] (``{"x", "y"}`` objects or ``[x, y]``
  pairs; a rectangle by two opposite corners), ``notes`` the transcription. ``metadata.status``
  other than ``done`` means not reviewed; ``metadata.evaluation`` ``INCORRECT`` means rejected in
  review.

Anything a single region or page gets wrong is recorded on it (``problem``) and counted by the
importer, never fatal; a file that is neither format is a :class:`~textrec_core.errors.DataError`
naming the file and what is wrong.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import attrs

from textrec_core.errors import DataError
from textrec_data.shapes import Box, Polygon, Shape

FORMATS = ("label-studio", "dataturks")
_BOXES = ("rectanglelabels", "rectangle")
_POLYGONS = ("polygonlabels", "polygon")


@attrs.frozen
class Region:
    """One outlined line: ``shape`` in fractions of the page (None: the whole page), ``text`` its
    transcription (None: none linked), ``key`` its identity on the page, ``where`` for reports, and
    ``problem``, a gate's name, when the export already shows it cannot be used."""

    key: str
    shape: Shape | None
    text: str | None
    where: str
    problem: str | None = None


@attrs.frozen
class Page:
    """A page image (``location`` as the export gives it) with its regions; ``problem`` (a gate's
    name) excludes every region of the page."""

    location: str
    regions: tuple[Region, ...]
    where: str
    problem: str | None = None


@attrs.frozen
class Export:
    """An export's format and its pages, in the export's order, and where it has transcriptions
    linked to no outline (``unlinked``)."""

    format: str
    pages: tuple[Page, ...]
    unlinked: tuple[str, ...] = ()


def read_export(path: Path, *, image_key: str = "image") -> Export:
    """The pages of the export at ``path`` (format detected from its content)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(f"cannot read the export {path}: {exc}") from None
    try:
        document = json.loads(text)
    except json.JSONDecodeError as whole_error:
        return _dataturks(path, text, whole_error)
    if isinstance(document, list):
        return _label_studio(document, image_key)
    if isinstance(document, dict) and "content" in document:  # a Dataturks export of one page
        return _dataturks(path, text, None)
    raise DataError(f"{path} is JSON but neither a Label Studio export (a list of tasks) nor a Dataturks page "
                    f"(an object with 'content'): its top level is a {type(document).__name__}")


# --- Label Studio ------------------------------------------------------------------------------
def _label_studio(tasks: list[Any], image_key: str) -> Export:
    pages, unlinked = [], []
    for number, task in enumerate(tasks, 1):
        where = f"task {task.get('id', f'#{number}')}" if isinstance(task, dict) else f"task #{number}"
        data = task.get("data") if isinstance(task, dict) else None
        location = data.get(image_key) if isinstance(data, dict) else None
        if not isinstance(location, str) or not location:
            pages.append(Page("", (Region("", None, None, where),), where, "missing_image"))
            continue
        annotation = _chosen_annotation(task.get("annotations"))
        if annotation is None:
            pages.append(Page(location, (Region("", None, None, where),), where, "not_reviewed"))
            continue
        regions, page_unlinked = _ls_regions(annotation.get("result"), where)
        unlinked += page_unlinked
        pages.append(Page(location, tuple(regions), where))
    return Export("label-studio", tuple(pages), tuple(unlinked))


def _chosen_annotation(annotations: Any) -> dict[str, Any] | None:
    """The annotation to read: the last ground-truth one, else the last one not cancelled."""
    usable = [a for a in annotations or () if isinstance(a, dict) and not a.get("was_cancelled")]
    truth = [a for a in usable if a.get("ground_truth")]
    return (truth or usable or [None])[-1]


def _ls_regions(results: Any, where: str) -> tuple[list[Region], list[str]]:
    shapes: dict[str, Shape | None] = {}
    problems: dict[str, str] = {}
    texts: dict[str, list[str]] = {}
    for result in results if isinstance(results, list) else ():
        if not isinstance(result, dict):
            continue
        kind, rid, value = result.get("type"), str(result.get("id", "")), result.get("value")
        if kind == "textarea":
            entries = value.get("text") if isinstance(value, dict) else None
            texts.setdefault(rid, []).extend(
                e for e in (entries if isinstance(entries, list) else ()) if isinstance(e, str))
        elif kind in _BOXES or kind in _POLYGONS:
            shape = _ls_shape(kind, value)
            shapes.setdefault(rid, shape)
            if shape is None:
                problems[rid] = "malformed_region"
            elif isinstance(shape, Polygon) and len(shape.points) < 3:
                problems[rid] = "degenerate_shape"
    if not shapes and texts:  # a line task: the whole image is the line
        rid, entries = next(iter(texts.items()))
        return [Region(rid, None, " ".join(entries), f"{where}, region {rid}")], []
    regions = [Region(rid, shape, " ".join(texts[rid]) if rid in texts else None, f"{where}, region {rid}",
                      problems.get(rid)) for rid, shape in shapes.items()]
    unlinked = [f"{where}, transcription {rid}" for rid in texts if rid not in shapes]
    return regions, unlinked


def _ls_shape(kind: str, value: Any) -> Shape | None:
    """The outline of a Label Studio result in fractions of the page, or None when malformed."""
    if not isinstance(value, dict):
        return None
    try:
        if kind in _BOXES:
            x, y, w, h = (float(value[k]) / 100 for k in ("x", "y", "width", "height"))
            return Box(x, y, w, h, float(value.get("rotation") or 0.0))
        return Polygon(tuple((float(p[0]) / 100, float(p[1]) / 100) for p in value["points"]))
    except (KeyError, TypeError, ValueError, IndexError):
        return None


# --- Dataturks ---------------------------------------------------------------------------------
def _dataturks(path: Path, text: str, whole_error: json.JSONDecodeError | None) -> Export:
    pages = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError as exc:
            whole = f" ({whole_error})" if whole_error is not None else ""
            raise DataError(f"{path} is neither a Label Studio JSON export{whole} nor a Dataturks JSON-lines "
                            f"export (line {number}: {exc})") from None
        if not isinstance(item, dict) or "content" not in item:
            raise DataError(f"{path}, line {number}: a Dataturks page is an object with 'content' (its image) and "
                            f"'annotation', got {line[:80]!r}")
        pages.append(_dataturks_page(item, f"line {number}"))
    if not pages:
        raise DataError(f"{path} holds no pages")
    return Export("dataturks", tuple(pages))


def _dataturks_page(item: dict[str, Any], where: str) -> Page:
    location = item.get("content")
    metadata = item.get("metadata") if isinstance(item.get("metadata"), dict) else {}
    problem = None
    if metadata.get("evaluation") == "INCORRECT":
        problem = "rejected_in_review"
    elif "status" in metadata and metadata["status"] != "done":
        problem = "not_reviewed"
    regions = []
    for index, annotation in enumerate(item.get("annotation") or ()):
        region_where = f"{where}, region {index}"
        shape = _dataturks_shape(annotation)
        notes = annotation.get("notes") if isinstance(annotation, dict) else None
        text = notes if isinstance(notes, str) else None
        if shape is None:
            regions.append(Region(f"#{index}", None, text, region_where, "malformed_region"))
        else:
            degenerate = isinstance(shape, Polygon) and len(shape.points) < 3
            regions.append(Region(shape.key(), shape, text, region_where, "degenerate_shape" if degenerate else None))
    if not isinstance(location, str) or not location:
        return Page("", tuple(regions), where, "missing_image")
    return Page(location, tuple(regions), where, problem)


def _dataturks_shape(annotation: Any) -> Shape | None:
    if not isinstance(annotation, dict) or not isinstance(annotation.get("points"), list):
        return None
    try:
        points = [(float(p["x"]), float(p["y"])) if isinstance(p, dict) else (float(p[0]), float(p[1]))
                  for p in annotation["points"]]
    except (KeyError, TypeError, ValueError, IndexError):
        return None
    kind = annotation.get("shape", "rectangle")
    if kind == "rectangle":
        if len(points) != 2:
            return None
        (x0, y0), (x1, y1) = points
        return Box(min(x0, x1), min(y0, y1), abs(x1 - x0), abs(y1 - y0))
    if kind == "polygon":
        return Polygon(tuple(points))
    return None
