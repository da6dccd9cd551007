"""Dataset versions: ``DATASET/v1``, ``v2``, ... each a complete folder in IAM's layout that is never
changed once written.

A version holds (:mod:`textrec_iam.layout`) ``ascii/lines.txt``, ``lines/<group>/<form>/<id>.png``,
``splits/{train,val,test}.lst``; ``unlabeled/<n>.png``, the regions cut out without a transcription;
``sources.jsonl``, one JSON object a line saying where each image came from (``image``, ``line``
id or null, ``page`` as the export names it, ``region`` key, ``text`` or null); and ``metadata.toml``
(:mod:`textrec_data.metadata`).

Pages become forms: the ``p``-th page with lines is form ``p<p // 1000>-<p % 1000>`` (``p00-000``),
its lines ``p00-000-00``, ``p00-000-01``, ... A page goes to one part, chosen by the SHA-256 of its
location as a number in [0, 1): below ``test_fraction`` test, below ``test_fraction + val_fraction``
val, else train. So pages never cross parts, and a page keeps its part in every later version.

A version is built in a temporary folder beside the others and renamed into place when complete. A
new import whose files equal the latest version's (same manifest, ``metadata.toml`` aside) writes
nothing. Changes are counted against the latest version by each line's identity, its page and region
key: ``added``, ``removed``, and ``relabeled`` (the same region with another text).
"""

from __future__ import annotations

import datetime
import hashlib
import io
import json
import os
import re
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs
import numpy as np

from textrec_core.errors import DataError
from textrec_core.services.fileio import make_public
from textrec_data.lines import Collected, Line
from textrec_data.metadata import file_digests, manifest_digest, read_version, write_metadata
from textrec_iam.layout import LINES_TXT, PARTS, format_split_list, image_path, lines_txt_row, split_list_path

VERSION_FOLDER = re.compile(r"v(\d+)")
SOURCES_FILE = "sources.jsonl"
UNLABELED_FOLDER = "unlabeled"
MAX_PAGES = 100_000
LINES_TXT_HEADER = "# textrec dataset in IAM's lines.txt format: id, segmentation, gray, components, x y w h, words\n"


@attrs.frozen
class Changes:
    """Lines added, removed and relabeled against ``previous`` (None: the first version)."""

    previous: int | None
    added: int = 0
    removed: int = 0
    relabeled: int = 0


@attrs.frozen
class Written:
    """The outcome of :func:`write_version`: the version's folder and number, whether it is new
    (False: the import equals the latest version, which is returned), its counts and changes."""

    path: Path
    version: int
    new: bool
    counts: dict[str, int]
    changes: Changes


def existing_versions(root: Path) -> list[tuple[int, Path]]:
    """``(number, folder)`` of every version under the dataset folder ``root``, oldest first."""
    if not Path(root).is_dir():
        return []
    found = [(int(m.group(1)), p) for p in Path(root).iterdir()
             if (m := VERSION_FOLDER.fullmatch(p.name)) and (p / "metadata.toml").is_file()]
    return sorted(found)


def part_of(page: str, val_fraction: float, test_fraction: float) -> str:
    """The part a page goes to (see the module docstring)."""
    u = int.from_bytes(hashlib.sha256(page.encode("utf-8")).digest()[:8], "big") / 2**64
    return "test" if u < test_fraction else "val" if u < test_fraction + val_fraction else "train"


def write_version(root: Path, collected: Collected, *, name: str, source: Mapping[str, Any],
                  val_fraction: float, test_fraction: float) -> Written:
    """Write ``collected`` as the next version of the dataset at ``root`` (see the module docstring)."""
    root = Path(root)
    pages = [lines for lines in collected.pages if lines]
    if len(pages) > MAX_PAGES:
        raise DataError(f"an export of {len(pages)} pages with lines is more than one dataset version holds "
                        f"({MAX_PAGES}: IAM's form ids)")
    versions = existing_versions(root)
    previous = versions[-1] if versions else None
    number = previous[0] + 1 if previous else 1
    root.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".v{number}.", dir=root))
    make_public(tmp)  # readable by others, as a folder made under the umask
    try:
        counts = _write_files(tmp, pages, collected.unlabeled, val_fraction, test_fraction)
        counts["excluded"] = collected.report.excluded
        identities = _identities(tmp)
        unchanged = previous is not None and (
            manifest_digest(file_digests(tmp)) == read_version(previous[1])["manifest"]["sha256"])
        if unchanged:
            shutil.rmtree(tmp)
            return Written(previous[1], previous[0], False, counts, Changes(previous[0]))
        changes = _changes(identities, _identities(previous[1]) if previous else {}, previous[0] if previous else None)
        report = collected.report.as_dict()
        texts = [line.text for lines in pages for line in lines if line.text]
        fields = {
            "name": name, "version": number, **({"previous": previous[0]} if previous else {}),
            "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            "alphabet": "".join(sorted(set("".join(texts)))),
            "source": dict(source), "counts": counts,
            "changes": {"added": changes.added, "removed": changes.removed, "relabeled": changes.relabeled},
            "gates": report["counts"], "gate_examples": report["examples"],
        }
        write_metadata(tmp, fields)
        target = root / f"v{number}"
        os.rename(tmp, target)  # fails, rather than replaces, if another import took the number meanwhile
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return Written(target, number, True, counts, changes)


def _write_files(folder: Path, pages: list[list[Line]], unlabeled: list[Line], val_fraction: float,
                 test_fraction: float) -> dict[str, int]:
    rows, sources = [], []
    parts: dict[str, list[str]] = {part: [] for part in PARTS}
    for p, lines in enumerate(pages):
        part = part_of(lines[0].page, val_fraction, test_fraction)
        form = f"p{p // 1000:02d}-{p % 1000:03d}"
        for i, line in enumerate(lines):
            line_id = f"{form}-{i:02d}"
            relative = image_path(line_id)
            _write_png(folder / relative, line.image)
            rows.append(lines_txt_row(line_id, line.text, width=line.image.shape[1], height=line.image.shape[0]))
            parts[part].append(line_id)
            sources.append({"image": relative, "line": line_id, "page": line.page, "region": line.region,
                            "text": line.text})
    for n, line in enumerate(unlabeled):
        relative = f"{UNLABELED_FOLDER}/{n:05d}.png"
        _write_png(folder / relative, line.image)
        sources.append({"image": relative, "line": None, "page": line.page, "region": line.region, "text": None})
    (folder / LINES_TXT).parent.mkdir(parents=True, exist_ok=True)
    (folder / LINES_TXT).write_text(LINES_TXT_HEADER + "".join(f"{row}\n" for row in rows), encoding="utf-8")
    for part, ids in parts.items():
        (folder / split_list_path(part)).parent.mkdir(parents=True, exist_ok=True)
        (folder / split_list_path(part)).write_text(format_split_list(ids), encoding="ascii")
    (folder / SOURCES_FILE).write_text("".join(json.dumps(s, ensure_ascii=False) + "\n" for s in sources),
                                       encoding="utf-8")
    return {"pages": len(pages), "lines": len(rows), **{part: len(ids) for part, ids in parts.items()},
            "unlabeled": len(unlabeled)}


def _write_png(path: Path, image: np.ndarray) -> None:
    from PIL import Image

    path.parent.mkdir(parents=True, exist_ok=True)
    buffer = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(image, dtype=np.uint8)).save(buffer, format="PNG")
    path.write_bytes(buffer.getvalue())


def _identities(folder: Path) -> dict[tuple[str, str], str]:
    """``{(page, region): text}`` of a version's labeled lines, from its ``sources.jsonl``."""
    identities = {}
    for row in (Path(folder) / SOURCES_FILE).read_text(encoding="utf-8").splitlines():
        source = json.loads(row)
        if source.get("line"):
            identities[(source["page"], source["region"])] = source["text"]
    return identities


def _changes(now: dict[tuple[str, str], str], before: dict[tuple[str, str], str], previous: int | None) -> Changes:
    return Changes(previous, added=len(now.keys() - before.keys()), removed=len(before.keys() - now.keys()),
                   relabeled=sum(1 for key in now.keys() & before.keys() if now[key] != before[key]))
