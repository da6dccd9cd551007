"""The service as deployed: gunicorn with two workers and ``textrec_web.wsgi:app``, over real HTTP."""

from __future__ import annotations

import hashlib
import http.client
import json
import re
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from PIL import Image

from textrec_core.bundle import Bundle
from textrec_web.testing import BAD_REQUEST_NAMES, BadRequest, assert_json_error, assert_refused, b64, bad_requests

HEX_ID = re.compile(r"[0-9a-f]{32}")


def test_healthz_names_the_model_and_its_digest(gunicorn_server, bundle):
    reply = gunicorn_server.request("GET", "/healthz")
    assert reply.status == 200
    health = reply.json()
    digest = hashlib.sha256((bundle / "bundle.json").read_bytes() + (bundle / "weights.pt").read_bytes())
    assert health == {"status": "ready", "corrections": False, "model": {
        "bundle": str(bundle.resolve()), "model": "LineModel", "network": "line_cnn_all_conv",
        "predictor": "LinePredictor", "input_shape": [28, 224], "digest": digest.hexdigest()[:16],
        "dataset_version": None, "runtime": "torch"}}


@pytest.mark.parametrize("form", ["data_url", "bare_base64", "json_string", "text_plain", "upload", "raw_png"])
def test_every_request_form_reads_the_line_as_the_predictor_does(gunicorn_server, samples, bundle, form):
    sample = samples[0]
    server = gunicorn_server
    if form == "data_url":
        reply = server.post_json({"image": "data:image/png;base64," + b64(sample.png)})
    elif form == "bare_base64":
        reply = server.post_json({"image": b64(sample.png)})
    elif form == "json_string":
        reply = server.post_json(b64(sample.png))
    elif form == "text_plain":
        reply = server.request("POST", "/v1/predict", b64(sample.png).encode(), {"Content-Type": "text/plain"})
    elif form == "upload":
        reply = server.upload(sample.png)
    else:
        reply = server.request("POST", "/v1/predict", sample.png, {"Content-Type": "image/png"})
    assert reply.status == 200, reply.body
    answer = reply.json()
    assert set(answer) == {"pred", "conf", "request_id", "model_version"}
    assert answer["request_id"] == reply.headers["x-request-id"]
    assert answer["model_version"] == reply.headers["x-model-version"] == Bundle(bundle).digest()
    assert answer["pred"] == sample.pred
    assert answer["conf"] == pytest.approx(sample.conf, abs=1e-6)


@pytest.fixture(scope="module")
def battery(samples) -> dict[str, BadRequest]:
    return bad_requests(samples[0].png)


@pytest.mark.parametrize("name", BAD_REQUEST_NAMES)
def test_bad_input_is_a_json_error_never_a_crash(gunicorn_server, battery, name):
    assert_refused(gunicorn_server.port, battery[name])


def test_multipart_without_the_file_field_and_an_empty_upload(gunicorn_server, samples):
    assert_json_error(gunicorn_server.upload(samples[0].png, field_name="image"), 400, "missing_field")
    assert_json_error(gunicorn_server.upload(b""), 400, "empty_image")


def test_a_declared_oversized_body_is_refused_before_it_is_sent(gunicorn_server):
    connection = http.client.HTTPConnection("127.0.0.1", gunicorn_server.port, timeout=30)
    try:
        connection.putrequest("POST", "/v1/predict")
        connection.putheader("Content-Type", "image/png")
        connection.putheader("Content-Length", str(50 * 1024 * 1024))
        connection.endheaders()
        response = connection.getresponse()
        assert response.status == 413
        assert json.loads(response.read())["error"]["code"] == "request_too_large"
    finally:
        connection.close()


def test_unknown_paths_methods_and_the_disabled_url_fetch_answer_json(gunicorn_server):
    assert_json_error(gunicorn_server.request("GET", "/v2/predict"), 404, "not_found")
    error = assert_json_error(reply := gunicorn_server.request("DELETE", "/v1/predict"), 405, "method_not_allowed")
    assert "POST" in reply.headers["allow"] and "DELETE" in error["message"]
    error = assert_json_error(gunicorn_server.request("GET", "/v1/predict?image_url=http://127.0.0.1/x.png"),
                              403, "image_url_disabled")
    assert "TEXTREC_WEB_ALLOW_IMAGE_URL" in error["message"]
    error = assert_json_error(gunicorn_server.upload(b"x", path="/v1/corrections", fields={"text": "a"}),
                              403, "corrections_off")
    assert "TEXTREC_WEB_CORRECTIONS_DIR" in error["message"]


def test_concurrent_requests_are_all_answered_right(gunicorn_server, samples):
    def ask(i: int):
        sample = samples[i % len(samples)]
        reply = gunicorn_server.post_json({"image": "data:image/png;base64," + b64(sample.png)})
        return sample, reply

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(ask, range(40)))
    assert all(reply.status == 200 for _, reply in results)
    assert [reply.json()["pred"] for _, reply in results] == [sample.pred for sample, _ in results]
    assert len({reply.headers["x-request-id"] for _, reply in results}) == 40


def test_request_ids_are_honoured_when_sane_and_replaced_otherwise(gunicorn_server):
    for sane in ("req-42", "a.b_c:D-9", "x" * 128):
        reply = gunicorn_server.request("GET", "/healthz", headers={"X-Request-Id": sane})
        assert reply.headers["x-request-id"] == sane
    for insane in ("two words", "x" * 129, "<script>", "id;drop"):
        given = gunicorn_server.request("GET", "/healthz", headers={"X-Request-Id": insane}).headers["x-request-id"]
        assert HEX_ID.fullmatch(given)
    assert HEX_ID.fullmatch(gunicorn_server.request("GET", "/healthz").headers["x-request-id"])


def test_each_prediction_logs_one_json_line_with_the_monitoring_signals(gunicorn_server, samples):
    sample = samples[1]
    reply = gunicorn_server.upload(sample.png)
    assert reply.status == 200
    refused = gunicorn_server.request("POST", "/v1/predict", b"nope", {"Content-Type": "image/png",
                                                                        "X-Request-Id": "refused-1"})
    assert refused.status == 400
    lines = gunicorn_server.log_lines()
    (line,) = [entry for entry in lines if entry.get("request_id") == reply.headers["x-request-id"]]
    image = np.asarray(Image.open(sample.path).convert("L"), dtype=np.float64) / 255
    assert line["event"] == "predict" and line["method"] == "POST" and line["status"] == 200
    assert line["source"] == "upload" and line["bytes"] == len(sample.png)
    assert (line["width"], line["height"]) == (224, 28)
    assert line["mean_intensity"] == pytest.approx(image.mean(), abs=1e-4)
    assert line["conf"] == pytest.approx(sample.conf, abs=1e-4)
    assert line["pred_length"] == len(sample.pred)
    assert 0 < line["latency_ms"] < 60_000
    assert "error" not in line and "pred" not in line  # the text read is not logged
    (line,) = [entry for entry in lines if entry.get("request_id") == "refused-1"]
    assert line["status"] == 400 and line["error"] == "not_an_image" and "conf" not in line


def test_the_workers_survived_every_bad_request(gunicorn_server, samples):
    reply = gunicorn_server.post_json({"image": b64(samples[2].png)})
    assert reply.status == 200 and reply.json()["pred"] == samples[2].pred
    assert gunicorn_server.process.poll() is None
    log = gunicorn_server.log_path.read_text()
    assert "Traceback" not in log and "exited" not in log.lower()
    assert {line["event"] for line in gunicorn_server.log_lines()} <= {"predict", "correction"}  # no "error"


def test_the_page_is_self_contained(gunicorn_server):
    reply = gunicorn_server.request("GET", "/")
    assert reply.status == 200 and reply.headers["content-type"].startswith("text/html")
    policy = reply.headers["content-security-policy"]
    assert "default-src 'none'" in policy and "connect-src 'self'" in policy
    page = reply.body.decode()
    for element in ("file", "canvas", "recognize", "clear", "pred", "conf", "error", "correction",
                    "correction-text", "correct", "correction-answer"):
        assert f'id="{element}"' in page
    assert not re.search(r"https?:|[\"'(]//", page, re.IGNORECASE)  # no absolute or protocol-relative URL
    assert not re.search(r"<[^>]+\s(src|href)\s*=", page)  # no element loads anything
    assert "url(" not in page and "@import" not in page
    assert 'toDataURL("image/png")' in page and "pointerdown" in page


def test_two_workers_storing_corrections_at_once_give_distinct_ids(corrections_server, corrections_folder, samples,
                                                                   read_corrections):
    assert corrections_server.request("GET", "/healthz").json()["corrections"] is True

    def correct(i: int):
        sample = samples[i % len(samples)]
        if i % 2:
            return i, corrections_server.upload(sample.png, path="/v1/corrections", fields={"text": f"line {i}"})
        return i, corrections_server.post_json({"image": b64(sample.png), "text": f"line {i}"}, path="/v1/corrections")

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(correct, range(24)))
    assert all(reply.status == 201 for _, reply in results), [reply.body for _, reply in results]
    stored = {reply.json()["line_id"]: f"line {i}" for i, reply in results}
    assert len(stored) == 24  # no id given twice
    lines = read_corrections(corrections_folder)
    assert {line_id: text for line_id, (text, _) in lines.items() if line_id in stored} == stored
    logged = [line for line in corrections_server.log_lines() if line.get("event") == "correction"]
    assert {line["line_id"] for line in logged if line["status"] == 201} >= stored.keys()
    bad = corrections_server.post_json({"image": b64(samples[0].png), "text": "a|b"}, path="/v1/corrections")
    assert "'|'" in assert_json_error(bad, 400, "invalid_text")["message"]
