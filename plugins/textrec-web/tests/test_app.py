"""The app factory in-process (Flask's test client): settings, URL fetching, the 500 handler, logging."""

from __future__ import annotations

import json
import logging
import urllib.request

import pytest

from textrec_ensembler import build_ensemble
from textrec_web import Settings, create_app
from textrec_web.errors import ApiError
from textrec_web.fetch import _AllowListedRedirects


def url_app(predictor, **settings):
    allowed = {"allow_image_url": True, "url_allow_hosts": ("127.0.0.1",), "url_timeout": 2.0, **settings}
    return create_app(predictor, Settings(**allowed)).test_client()


def test_the_factory_takes_a_predictor_or_a_bundle_path(bundle, predictor, samples):
    for model in (predictor, bundle, str(bundle)):
        reply = create_app(model).test_client().post("/v1/predict", data=samples[0].png, content_type="image/png")
        assert reply.status_code == 200 and reply.json["pred"] == samples[0].pred
    with pytest.raises(TypeError, match="predictor or a bundle path"):
        create_app(42)


def test_settings_set_the_limits(predictor, samples):
    client = create_app(predictor, Settings(max_request_bytes=100, max_image_pixels=1000)).test_client()
    assert client.post("/v1/predict", data=samples[0].png, content_type="image/png").status_code == 413
    client = create_app(predictor, Settings(max_image_pixels=1000)).test_client()
    reply = client.post("/v1/predict", data=samples[0].png, content_type="image/png")
    assert reply.status_code == 413 and reply.json["error"]["code"] == "image_too_large"
    assert "224x28" in reply.json["error"]["message"] and "1000 pixels" in reply.json["error"]["message"]


def test_an_allowed_url_is_fetched_and_read(predictor, samples, http_file_server):
    url = http_file_server.serve("line.png", samples[0].png)
    reply = url_app(predictor).get("/v1/predict", query_string={"image_url": url})
    assert reply.status_code == 200 and reply.json["pred"] == samples[0].pred
    assert http_file_server.requests == ["/line.png"]


@pytest.mark.parametrize(("url", "status", "code"), [
    (None, 400, "missing_field"),
    ("file:///etc/passwd", 400, "invalid_url"),
    ("ftp://127.0.0.1/line.png", 400, "invalid_url"),
    ("http://[::1/line.png", 400, "invalid_url"),
    ("http://localhost/line.png", 403, "host_not_allowed"),
    ("http://127.0.0.1.example.org/line.png", 403, "host_not_allowed"),
    ("http://127.0.0.1@evil.example/line.png", 403, "host_not_allowed"),
])
def test_urls_outside_the_allow_list_are_never_fetched(predictor, url, status, code):
    reply = url_app(predictor).get("/v1/predict", query_string={"image_url": url} if url else {})
    assert reply.status_code == status and reply.json["error"]["code"] == code


@pytest.mark.parametrize(("mode", "settings", "status", "code"), [
    ("missing", {}, 502, "url_fetch_failed"),
    ("truncated", {}, 502, "url_fetch_failed"),
    ("ok", {"url_max_bytes": 1000}, 413, "url_too_large"),
    ("slow", {"url_timeout": 0.3, "url_max_bytes": 10_000_000}, 504, "url_timeout"),
])
def test_failed_fetches_are_gateway_errors(predictor, http_file_server, mode, settings, status, code):
    body = bytes(200_000)
    url = http_file_server.url("absent.png") if mode == "missing" else http_file_server.serve("big.png", body, mode)
    reply = url_app(predictor, **settings).get("/v1/predict", query_string={"image_url": url})
    assert reply.status_code == status and reply.json["error"]["code"] == code, reply.json


def test_redirects_are_followed_only_to_allowed_hosts():
    handler = _AllowListedRedirects(Settings(allow_image_url=True, url_allow_hosts=("images.example",)))
    request = urllib.request.Request("http://images.example/a.png")
    with pytest.raises(ApiError) as refused:
        handler.redirect_request(request, None, 302, "Found", {}, "http://169.254.169.254/latest/meta-data")
    assert refused.value.code == "host_not_allowed"
    followed = handler.redirect_request(request, None, 302, "Found", {}, "https://images.example/b.png")
    assert followed.full_url == "https://images.example/b.png"


class Exploding:
    """A predictor that fails unexpectedly, as a bug would."""

    def __init__(self, bundle) -> None:
        self.bundle = bundle

    def predict(self, image):
        raise RuntimeError("secret internals /srv/model")

    def predict_batch(self, images):
        raise RuntimeError("secret internals /srv/model")


def test_an_unexpected_failure_is_a_generic_500_logged_with_its_traceback(predictor, samples, caplog):
    client = create_app(Exploding(predictor.bundle)).test_client()
    with caplog.at_level(logging.INFO, logger="textrec.web"):
        reply = client.post("/v1/predict", data=samples[0].png, content_type="image/png",
                            headers={"X-Request-Id": "boom-1"})
    assert reply.status_code == 500 and reply.headers["X-Request-Id"] == "boom-1"
    assert reply.json == {"error": {"code": "internal_error", "request_id": "boom-1", "message": (
        "the server failed to answer this request; quote the request id when reporting it")}}
    events = [json.loads(record.getMessage()) for record in caplog.records if record.name == "textrec.web"]
    assert [(e["event"], e["request_id"]) for e in events] == [("error", "boom-1"), ("predict", "boom-1")]
    assert "RuntimeError: secret internals" in events[0]["traceback"]
    assert events[1]["status"] == 500 and events[1]["error"] == "internal_error"


def test_an_ensemble_answers_with_its_members_agreement_and_a_digest_of_their_weights(bundle, samples, tmp_path):
    ensemble = build_ensemble([bundle, bundle], tmp_path / "ensemble", combine="vote")
    client = create_app(ensemble).test_client()
    reply = client.post("/v1/predict", data=samples[0].png, content_type="image/png")
    assert reply.status_code == 200
    assert reply.json["pred"] == samples[0].pred and reply.json["agreement"] == 1.0  # two equal members agree
    assert "agreement" not in create_app(bundle).test_client().post(
        "/v1/predict", data=samples[0].png, content_type="image/png").json
    digest = client.get("/healthz").json["model"]["digest"]
    member = ensemble / "members" / "1" / "bundle.json"
    member.write_text(json.dumps({**json.loads(member.read_text()), "note": "retrained"}))  # only a member changes
    assert create_app(ensemble).test_client().get("/healthz").json["model"]["digest"] != digest
