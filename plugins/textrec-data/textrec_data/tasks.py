"""Label Studio tasks of line images, pre-annotated with a model's readings (``textrec-data export-tasks``).

:func:`export_tasks` reads every line image under a folder with a saved model (or ensemble) bundle
and writes two files:

- ``OUT`` (``tasks.json``): a JSON list of Label Studio tasks in its import format, one per image,
  least confident first (:data:`ORDERS`)::

      {"data": {"image": URL_PREFIX + quoted relative path, "textrec_image": relative path,
                "agreement": 0.8},                          # agreement: ensembles only
       "predictions": [{"model_version": "LineModelCtc-0123456789abcdef", "score": confidence,
                        "result": [{"id": "line", "from_name": "transcription", "to_name": "image",
                                    "type": "textarea", "value": {"text": [reading]}}]}]}

  The relative path is the image's path under the images folder (posix), percent-encoded in the
  URL (``/`` kept), so Label Studio's ``/data/local-files/?d=`` finds names with spaces, ``+`` or
  ``#``. An empty (or all-whitespace) reading pre-annotates nothing (``result`` is empty; the score is kept).
- ``OUT`` with suffix ``.xml`` (``tasks.xml``): the labeling config those tasks fit
  (:data:`LABELING_CONFIG`): an ``Image`` named ``image`` and a ``TextArea`` named
  ``transcription`` on it. A task labeled with it exports as a line task (a textarea result and no
  outline), which :func:`textrec_data.exports.read_export` reads as one line, the whole image, and
  ``textrec-data import`` imports from the images folder (``--images IMAGES``).

``model_version`` is the model's name and the bundle's digest: the first 16 hex digits of the
SHA-256 of its ``bundle.json``, then ``weights.pt``, then (an ensemble) every file under
``members/`` in path order; the same digest ``textrec-serve`` reports for the bundle at
``/healthz``. Both files are written atomically.
"""

from __future__ import annotations

import logging
import urllib.parse
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import attrs
from tqdm import tqdm

from textrec_core.bundle import Bundle
from textrec_core.errors import BundleError, ConfigError
from textrec_core.predictor import EnsembleReader, Predictor, load_predictor
from textrec_core.services.fileio import atomic_write, write_json

log = logging.getLogger("textrec")

#: ``confidence``: lowest confidence first; ``disagreement`` (ensembles): lowest agreement first,
#: then lowest confidence. Ties go by path.
ORDERS = ("confidence", "disagreement")
IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp"})
BATCH_SIZE = 32
#: The names the tasks' results use, which :data:`LABELING_CONFIG` declares.
IMAGE_NAME = "image"
TEXT_NAME = "transcription"
RESULT_ID = "line"
LABELING_CONFIG = f"""<View>
  <Image name="{IMAGE_NAME}" value="${IMAGE_NAME}" zoom="true"/>
  <TextArea name="{TEXT_NAME}" toName="{IMAGE_NAME}" editable="true" maxSubmissions="1" rows="1"
            placeholder="the line's text"/>
</View>
"""


@attrs.frozen
class LineReading:
    """One line image read: its path relative to the images folder (posix), the text, the
    confidence, and the ensemble's agreement (None for a single model)."""

    relative: str
    text: str
    confidence: float
    agreement: float | None


def export_tasks(bundle: Path, images: Path, out: Path, *, order: str, url_prefix: str, limit: int | None) -> int:
    """Write the tasks of the line images under ``images`` read by ``bundle`` to ``out``, and the
    labeling config beside it (``out`` with suffix ``.xml``); return how many tasks were written.

    Tasks come in ``order`` (:data:`ORDERS`), only the first ``limit`` when given. A :class:`ConfigError`
    (the CLI's exit status 2), before any image is read: ``images`` holds no line image (at
    ``IMAGES``), ``bundle`` is no readable bundle (at ``BUNDLE``), ``order`` is ``disagreement``
    and the bundle no ensemble (at ``--order``), ``out`` is a folder or an ``.xml`` file (at
    ``OUT.json``). An image the model cannot read is an ``InputImageError`` naming it.
    """
    out = Path(out)
    if order not in ORDERS:
        raise ConfigError("--order", f"must be one of {', '.join(ORDERS)}, got {order!r}")
    if out.is_dir() or out.suffix.lower() == ".xml":
        raise ConfigError("OUT.json", f"{str(out)!r} must be a file path not ending in .xml (the labeling config "
                                      "is written beside it with that suffix)")
    paths = find_images(Path(images))
    try:
        predictor = load_predictor(bundle)
    except BundleError as exc:
        raise ConfigError("BUNDLE", str(exc)) from None
    if order == "disagreement" and not isinstance(predictor, EnsembleReader):
        raise ConfigError("--order", f"disagreement needs an ensemble bundle (textrec-ensemble); {bundle} is a "
                                     f"single {predictor.bundle.meta['model']}: use --order confidence")
    readings = read_lines(predictor, Path(images), paths)
    readings.sort(key=(lambda r: (r.agreement, r.confidence, r.relative)) if order == "disagreement"
                  else (lambda r: (r.confidence, r.relative)))
    version = model_version(predictor.bundle)
    tasks = [task(reading, url_prefix, version) for reading in readings[:limit]]
    write_json(out, tasks)
    config = atomic_write(out.with_suffix(".xml"), lambda tmp: tmp.write_text(LABELING_CONFIG, encoding="utf-8"))
    log.info("%d tasks of %d line images (model %s); Label Studio labeling config: %s", len(tasks), len(paths),
             version, config)
    return len(tasks)


def find_images(folder: Path) -> list[Path]:
    """The line images under ``folder`` (searched recursively, by suffix: :data:`IMAGE_SUFFIXES`),
    sorted by path; none is a :class:`ConfigError` at ``IMAGES``."""
    found = sorted(p for p in folder.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file()) \
        if folder.is_dir() else []
    if not found:
        raise ConfigError("IMAGES", f"{str(folder)!r} holds no line images "
                                    f"({', '.join(sorted(IMAGE_SUFFIXES))}, searched recursively)")
    return found


def read_lines(predictor: Predictor, root: Path, paths: Sequence[Path]) -> list[LineReading]:
    """Every image of ``paths`` read, :data:`BATCH_SIZE` at a time with a progress bar; with an
    ensemble (:class:`~textrec_core.predictor.EnsembleReader`) with the members' agreement."""
    readings = []
    with tqdm(total=len(paths), desc="line images", unit="line", disable=None, leave=False) as bar:
        for batch in _batches(paths):
            relative = [path.relative_to(root).as_posix() for path in batch]
            if isinstance(predictor, EnsembleReader):
                readings += [LineReading(rel, line.text, float(line.confidence), float(line.agreement))
                             for rel, line in zip(relative, predictor.read(batch))]
            else:
                readings += [LineReading(rel, text, float(confidence), None)
                             for rel, (text, confidence) in zip(relative, predictor.predict_batch(list(batch)))]
            bar.update(len(batch))
    return readings


def _batches(paths: Sequence[Path]) -> Iterator[Sequence[Path]]:
    for start in range(0, len(paths), BATCH_SIZE):
        yield paths[start : start + BATCH_SIZE]


def task(reading: LineReading, url_prefix: str, version: str) -> dict[str, Any]:
    """The Label Studio task of one reading (the module's format)."""
    data: dict[str, Any] = {IMAGE_NAME: url_prefix + urllib.parse.quote(reading.relative, safe="/"),
                            "textrec_image": reading.relative}
    if reading.agreement is not None:
        data["agreement"] = reading.agreement
    result = [{"id": RESULT_ID, "from_name": TEXT_NAME, "to_name": IMAGE_NAME, "type": "textarea",
               "value": {"text": [reading.text]}}] if reading.text.strip() else []
    return {"data": data, "predictions": [{"model_version": version, "score": reading.confidence, "result": result}]}


def model_version(bundle: Bundle) -> str:
    """``<model>-<digest>``: the bundle's model name and its digest (the module's recipe)."""
    return f"{bundle.meta['model']}-{bundle.digest()}"
