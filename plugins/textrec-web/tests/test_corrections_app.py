"""``POST /v1/corrections`` and ``GET /healthz`` in-process (Flask's test client, real folders)."""

from __future__ import annotations

import io
import json
import logging
import shutil

import numpy as np
import pytest

from textrec_ensembler import build_ensemble
from textrec_iam.layout import LINES_TXT
from textrec_web import Settings, SettingsError, create_app
from textrec_web.testing import b64


@pytest.fixture
def folder(tmp_path):
    return tmp_path / "corrections"


@pytest.fixture
def client(predictor, folder):
    return create_app(predictor, Settings(corrections_dir=str(folder))).test_client()


def test_corrections_are_off_by_default_and_store_nothing(predictor, samples, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    client = create_app(predictor).test_client()
    assert client.get("/healthz").json["corrections"] is False
    reply = client.post("/v1/corrections", json={"image": b64(samples[0].png), "text": "a line"})
    assert reply.status_code == 403 and reply.json["error"]["code"] == "corrections_off"
    message = reply.json["error"]["message"]
    assert "corrections are off" in message and "TEXTREC_WEB_CORRECTIONS_DIR=FOLDER" in message
    assert "--corrections-dir" in message
    assert not list(tmp_path.iterdir())


def test_every_image_form_is_stored_with_its_text(client, folder, samples, read_corrections):
    png = samples[0].png
    assert client.get("/healthz").json["corrections"] is True
    replies = [
        client.post("/v1/corrections", json={"image": "data:image/png;base64," + b64(png), "text": "by json"}),
        client.post("/v1/corrections", data={"file": (io.BytesIO(png), "line.png"), "text": "by form"},
                    content_type="multipart/form-data"),
        client.post("/v1/corrections", query_string={"text": "raw bytes"}, data=png, content_type="image/png"),
        client.post("/v1/corrections", query_string={"text": "base64 text"}, data=b64(png), content_type="text/plain"),
    ]
    assert [(r.status_code, r.json) for r in replies] == [
        (201, {"line_id": "w00-000-00", "text": "by json"}), (201, {"line_id": "w00-000-01", "text": "by form"}),
        (201, {"line_id": "w00-000-02", "text": "raw bytes"}), (201, {"line_id": "w00-000-03", "text": "base64 text"})]
    lines = read_corrections(folder)
    assert {line_id: text for line_id, (text, _) in lines.items()} == {
        "w00-000-00": "by json", "w00-000-01": "by form", "w00-000-02": "raw bytes", "w00-000-03": "base64 text"}
    assert len({image.tobytes() for _, image in lines.values()}) == 1  # one image, four times


def test_the_answer_gives_the_text_as_stored(client, samples):
    reply = client.post("/v1/corrections", json={"image": b64(samples[0].png), "text": "  Mr . Gaitskell ,  the "})
    assert reply.status_code == 201 and reply.json["text"] == "Mr. Gaitskell, the"


def bad_corrections(png: bytes, blank: bytes) -> dict[str, tuple[dict, int, str, str]]:
    """name: (request keyword arguments, status, error code, words of the message)."""
    image = b64(png)
    return {
        "no_text": ({"json": {"image": image}}, 400, "missing_field", '"text"'),
        "text_not_a_string": ({"json": {"image": image, "text": 7}}, 400, "invalid_field", "JSON string"),
        "bare_json_string": ({"json": image}, 400, "missing_field", '"text"'),
        "no_image": ({"json": {"text": "a line"}}, 400, "missing_field", '"image"'),
        "form_without_text": ({"data": {"file": (io.BytesIO(png), "l.png")},
                               "content_type": "multipart/form-data"}, 400, "missing_field", '"text"'),
        "raw_without_text": ({"data": png, "content_type": "image/png"}, 400, "missing_field", "?text="),
        "bar": ({"json": {"image": image, "text": "a|b"}}, 400, "invalid_text", "'|'"),
        "line_break": ({"json": {"image": image, "text": "a\nb"}}, 400, "invalid_text", "line break"),
        "empty": ({"json": {"image": image, "text": "   "}}, 400, "empty_text", "empty"),
        "too_long": ({"json": {"image": image, "text": "word " * 30}}, 400, "text_too_long", "at most 100"),
        "blank_image": ({"json": {"image": b64(blank), "text": "a line"}}, 400, "blank_image", "blank"),
        "not_an_image": ({"json": {"image": b64(b"hello"), "text": "a line"}}, 400, "not_an_image", "PNG"),
        "bad_json": ({"data": b"{oops", "content_type": "application/json"}, 400, "invalid_json", "JSON"),
        "form_urlencoded": ({"data": b"text=a", "content_type": "application/x-www-form-urlencoded"}, 415,
                            "unsupported_media_type", "multipart"),
    }


BAD_NAMES = list(bad_corrections(b"", b""))


@pytest.mark.parametrize("name", BAD_NAMES)
def test_bad_corrections_are_json_errors_that_store_nothing(client, folder, samples, to_png, name):
    kwargs, status, code, words = bad_corrections(samples[0].png, to_png(np.full((28, 80), 255, np.uint8)))[name]
    reply = client.post("/v1/corrections", **kwargs)
    assert reply.status_code == status and reply.json["error"]["code"] == code, reply.json
    assert words in reply.json["error"]["message"]
    assert not (folder / LINES_TXT).exists() and not (folder / "lines").exists()


def test_a_full_folder_answers_507_naming_the_cap(predictor, samples, folder):
    client = create_app(predictor, Settings(corrections_dir=folder, corrections_max_mb=1)).test_client()
    (folder / "filler.bin").write_bytes(bytes(1024 * 1024 - 100))
    reply = client.post("/v1/corrections", json={"image": b64(samples[0].png), "text": "a line"})
    assert reply.status_code == 507 and reply.json["error"]["code"] == "corrections_full"
    assert "cap of 1 MiB (corrections_max_mb)" in reply.json["error"]["message"]
    assert not (folder / LINES_TXT).exists()


def test_a_folder_that_cannot_be_written_stops_the_app(predictor, tmp_path):
    (tmp_path / "file").write_text("")
    with pytest.raises(SettingsError, match="cannot write there"):
        create_app(predictor, Settings(corrections_dir=tmp_path / "file"))


def test_each_correction_logs_one_line_without_its_text(client, samples, caplog):
    with caplog.at_level(logging.INFO, logger="textrec.web"):
        client.post("/v1/corrections", json={"image": b64(samples[1].png), "text": "private words"},
                    headers={"X-Request-Id": "fix-1"})
        client.post("/v1/corrections", json={"image": b64(samples[1].png), "text": "a|b"},
                    headers={"X-Request-Id": "fix-2"})
    lines = [json.loads(record.getMessage()) for record in caplog.records if record.name == "textrec.web"]
    assert [(line["event"], line["request_id"], line["status"]) for line in lines] == [
        ("correction", "fix-1", 201), ("correction", "fix-2", 400)]
    assert lines[0]["line_id"] == "w00-000-00" and (lines[0]["width"], lines[0]["height"]) == (224, 28)
    assert lines[1]["error"] == "invalid_text" and "line_id" not in lines[1]
    assert "private" not in caplog.text


def with_dataset_version(bundle, folder, version):
    """A copy of ``bundle`` at ``folder`` whose bundle.json has ``dataset_version`` (none when None)."""
    shutil.copytree(bundle, folder)
    meta = json.loads((folder / "bundle.json").read_text())
    if version is not None:
        meta["dataset_version"] = version
    (folder / "bundle.json").write_text(json.dumps(meta))
    return folder


def test_healthz_reports_the_bundles_dataset_version(bundle, tmp_path):
    assert create_app(bundle).test_client().get("/healthz").json["model"]["dataset_version"] is None
    labeled = with_dataset_version(bundle, tmp_path / "labeled", "iam-lines v3 sha256:0123456789ab")
    model = create_app(labeled).test_client().get("/healthz").json["model"]
    assert model["dataset_version"] == "iam-lines v3 sha256:0123456789ab"
    assert "member_dataset_versions" not in model


@pytest.mark.parametrize(("members", "own", "reported"), [
    (["v1", "v1"], None, "v1"),  # the members agree: their version
    (["v1", "v2"], None, None),  # they differ: none
    (["v1", None], None, None),
    (["v1", "v2"], "curated", "curated"),  # the ensemble's own key wins
])
def test_an_ensemble_reports_its_members_dataset_versions(bundle, tmp_path, members, own, reported):
    paths = [with_dataset_version(bundle, tmp_path / f"m{i}", version) for i, version in enumerate(members)]
    ensemble = build_ensemble(paths, tmp_path / "ensemble", combine="vote", progress=False)
    if own is not None:
        meta = json.loads((ensemble / "bundle.json").read_text())
        (ensemble / "bundle.json").write_text(json.dumps({**meta, "dataset_version": own}))
    model = create_app(ensemble).test_client().get("/healthz").json["model"]
    assert (model["dataset_version"], model["member_dataset_versions"]) == (reported, members)
