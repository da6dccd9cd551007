"""``textrec-data export-tasks``: Label Studio tasks of line images pre-annotated by a real saved model
(or a 2-member ensemble), least confident (or least agreed) first, with the labeling config they fit;
labeled, they read back through ``read_export`` (and import) as the model read them; bad input exits 2."""

from __future__ import annotations

import hashlib
import json
import urllib.parse
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from PIL import Image

from textrec_core import CharacterMapping, DataShapes, load_predictor
from textrec_core.mapping import BLANK, PAD
from textrec_data.cli import main
from textrec_data.exports import read_export
from textrec_data.pages import load_pages
from textrec_ensembler import build_ensemble
from textrec_lstm_ctc import LineModelCtc
from textrec_lstm_ctc.network import line_lstm_ctc

MAPPING = CharacterMapping(("a", "b", "c", " ", PAD, BLANK))
NETWORK_ARGS = {"window_width": 8, "window_stride": 4, "conv_channels": 4, "lstm_size": 8, "lstm_layers": 1}
#: Seeds of untrained models that read every test line as some non-empty text, and that, as an ensemble,
#: agree on the lines in an order other than the ensemble's confidence in them.
SINGLE_SEED, MEMBER_SEEDS = 11, (8, 11)
#: Where the test lines go under the images folder: subfolders, a name to percent-encode, other formats.
LINE_FILES = ("page1/line 0.png", "page1/line 1.png", "page2/line#2.png", "page2/line+3.jpg", "line 4.TIF",
              "line 5.bmp")
#: A copy of line 0: read exactly as it is, so it ties with it and goes after it by path.
COPY_OF_LINE_0 = "page2/copy of line 0.png"


def saved_model(path: Path, seed: int) -> Path:
    """A saved, untrained (seeded) LineModelCtc bundle: its readings are arbitrary but fixed."""
    torch.manual_seed(seed)
    shapes = DataShapes((16, 128), (8,), MAPPING)
    model = LineModelCtc.for_inference(line_lstm_ctc(shapes, **NETWORK_ARGS), shapes)
    return model.save(path, model="LineModelCtc", network="line_lstm_ctc", network_args=NETWORK_ARGS,
                      model_args={"decoder": "greedy"})


def write_lines(folder: Path) -> Path:
    """The test's line images (dark specks on white, of growing width and ink) in ``folder``, and a
    file that is no image."""
    rng = np.random.default_rng(0)
    for i, name in enumerate(LINE_FILES):
        width = 40 + 23 * i
        line = np.full((16, width), 255, np.uint8)
        band = line[2 + i % 3 : 14 - i % 2, 3:-3]
        band[rng.random(band.shape) < 0.1 + 0.12 * i] = 0
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(line).save(folder / name)
    (folder / COPY_OF_LINE_0).write_bytes((folder / LINE_FILES[0]).read_bytes())
    (folder / "notes.txt").write_text("not an image", encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def saved(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The images folder, a single model's bundle and a 2-member ensemble's (voting)."""
    root = tmp_path_factory.mktemp("tasks")
    members = [saved_model(root / f"member{seed}", seed) for seed in MEMBER_SEEDS]
    return {"images": write_lines(root / "images"), "single": saved_model(root / "single", SINGLE_SEED),
            "ensemble": build_ensemble(members, root / "ensemble")}


def export(*args: str | Path) -> int:
    return main(["export-tasks", *map(str, args)])


def read_tasks(path: Path) -> list[dict[str, Any]]:
    return json.loads(path.read_text(encoding="utf-8"))


def relative_paths(images: Path) -> list[str]:
    return sorted([*LINE_FILES, COPY_OF_LINE_0], key=lambda name: (images / name).as_posix())


def bundle_digest(bundle: Path) -> str:
    """The bundle's digest as the module states it: bundle.json, weights.pt, then the members' files."""
    digest = hashlib.sha256()
    for path in [bundle / "bundle.json", bundle / "weights.pt",
                 *sorted(p for p in (bundle / "members").rglob("*") if p.is_file())]:
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def test_tasks_carry_the_models_readings_least_confident_first(saved, tmp_path, capsys):
    images, out = saved["images"], tmp_path / "tasks.json"
    assert export(saved["single"], images, out) == 0
    assert json.loads(capsys.readouterr().out) == {"tasks": 7, "out": str(out)}
    names = relative_paths(images)
    readings = dict(zip(names, load_predictor(saved["single"]).predict_batch([images / n for n in names])))
    assert all(text.strip() for text, _ in readings.values())
    expected = sorted(names, key=lambda name: (readings[name][1], name))
    assert expected.index(COPY_OF_LINE_0) == expected.index(LINE_FILES[0]) + 1  # a tie, kept in path order
    assert expected[:-2] != sorted(expected[:-2])  # confidence, not path, decides the rest
    version = f"LineModelCtc-{bundle_digest(saved['single'])}"
    assert read_tasks(out) == [
        {"data": {"image": "/data/local-files/?d=" + urllib.parse.quote(name), "textrec_image": name},
         "predictions": [{"model_version": version, "score": pytest.approx(readings[name][1]),
                          "result": [{"id": "line", "from_name": "transcription", "to_name": "image",
                                      "type": "textarea", "value": {"text": [readings[name][0]]}}]}]}
        for name in expected]
    assert {"/data/local-files/?d=page1/line%200.png", "/data/local-files/?d=page2/line%232.png",
            "/data/local-files/?d=page2/line%2B3.jpg"} <= {t["data"]["image"] for t in read_tasks(out)}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tasks.json", "tasks.xml"]  # no temporary files left


def test_the_labeling_config_declares_the_names_the_tasks_use(saved, tmp_path):
    assert export(saved["single"], saved["images"], tmp_path / "tasks.json") == 0
    view = ET.fromstring((tmp_path / "tasks.xml").read_text(encoding="utf-8"))
    assert view.tag == "View"
    (image,), (text,) = view.findall("Image"), view.findall("TextArea")
    assert (image.get("name"), image.get("value")) == ("image", "$image")
    assert (text.get("name"), text.get("toName"), text.get("editable")) == ("transcription", "image", "true")


def test_limit_keeps_the_first_tasks_and_the_url_prefix_leads_every_url(saved, tmp_path):
    everything, first = tmp_path / "all.json", tmp_path / "first.json"
    assert export(saved["single"], saved["images"], everything) == 0
    assert export(saved["single"], saved["images"], first, "--limit", "3",
                  "--url-prefix", "https://lines.example/x/") == 0
    tasks = read_tasks(first)
    assert [t["data"]["textrec_image"] for t in tasks] == [
        t["data"]["textrec_image"] for t in read_tasks(everything)[:3]]
    assert all(t["data"]["image"] == "https://lines.example/x/" + urllib.parse.quote(t["data"]["textrec_image"])
               for t in tasks)
    assert export(saved["single"], saved["images"], tmp_path / "many.json", "--limit", "100") == 0
    assert len(read_tasks(tmp_path / "many.json")) == 7


def test_an_ensemble_orders_by_disagreement_and_records_agreement(saved, tmp_path):
    images, ensemble = saved["images"], saved["ensemble"]
    names = relative_paths(images)
    lines = dict(zip(names, load_predictor(ensemble).read([images / n for n in names])))
    by_agreement = sorted(names, key=lambda n: (lines[n].agreement, lines[n].confidence, n))
    by_confidence = sorted(names, key=lambda n: (lines[n].confidence, n))
    assert by_agreement != by_confidence  # the fixture tells the two orders apart
    for order, expected in (("disagreement", by_agreement), ("confidence", by_confidence)):
        out = tmp_path / f"{order}.json"
        assert export(ensemble, images, out, "--order", order) == 0
        tasks = read_tasks(out)
        assert [t["data"]["textrec_image"] for t in tasks] == expected
        assert [t["data"]["agreement"] for t in tasks] == [pytest.approx(lines[n].agreement) for n in expected]
        assert [t["predictions"][0]["score"] for t in tasks] == [pytest.approx(lines[n].confidence) for n in expected]
        assert {t["predictions"][0]["model_version"] for t in tasks} == {f"EnsembleModel-{bundle_digest(ensemble)}"}


def test_labeled_tasks_read_back_as_whole_image_lines_with_the_labelers_text(saved, tmp_path, monkeypatch):
    import tomllib  # (ruff's py310 target takes it for a third-party module)

    monkeypatch.setenv("TEXTREC_DATA_DIR", str(tmp_path / "data-dir"))
    images, out = saved["images"], tmp_path / "tasks.json"
    assert export(saved["ensemble"], images, out) == 0
    tasks = read_tasks(out)
    for task in tasks:  # the labeler accepts every pre-annotation as it is
        task["annotations"] = [{"id": 1, "result": task["predictions"][0]["result"], "was_cancelled": False}]
    (tmp_path / "export.json").write_text(json.dumps(tasks), encoding="utf-8")
    pages = read_export(tmp_path / "export.json").pages
    assert [page.location for page in pages] == [task["data"]["image"] for task in tasks]
    assert all(page.problem is None and len(page.regions) == 1 and page.regions[0].shape is None for page in pages)
    labeled = [t["predictions"][0]["result"] for t in tasks]
    assert [page.regions[0].text for page in pages] == [r[0]["value"]["text"][0] if r else None for r in labeled]
    assert any(labeled)
    found = load_pages([page.location for page in pages], roots=[images], cache=tmp_path / "cache", workers=2)
    assert all(found[page.location].image is not None for page in pages)  # every URL finds its image
    assert main(["import", str(tmp_path / "export.json"), str(tmp_path / "dataset"), "--images", str(images)]) == 0
    metadata = tomllib.loads((tmp_path / "dataset" / "v1" / "metadata.toml").read_text(encoding="utf-8"))
    assert metadata["counts"]["lines"] == sum(map(bool, labeled)) - 1  # the copy of line 0 is a duplicate page
    assert metadata["gates"] == {"duplicate_page": 1}


@pytest.mark.parametrize("problem", ["no images", "missing bundle", "single model by disagreement", "xml out"])
def test_unusable_input_exits_2_naming_what_is_wrong(problem, saved, tmp_path, capsys):
    empty = tmp_path / "empty"
    (empty / "sub").mkdir(parents=True)
    (empty / "sub" / "readme.txt").write_text("no lines here", encoding="utf-8")
    args, where = {
        "no images": ((saved["single"], empty, tmp_path / "t.json"), "IMAGES"),
        "missing bundle": ((tmp_path / "no-bundle", saved["images"], tmp_path / "t.json"), "BUNDLE"),
        "single model by disagreement": ((saved["single"], saved["images"], tmp_path / "t.json", "--order",
                                          "disagreement"), "--order: disagreement needs an ensemble"),
        "xml out": ((saved["single"], saved["images"], tmp_path / "t.xml"), "OUT.json"),
    }[problem]
    assert export(*args) == 2
    assert f"error: {where}" in capsys.readouterr().err
    assert not (tmp_path / "t.json").exists() and not (tmp_path / "t.xml").exists()
