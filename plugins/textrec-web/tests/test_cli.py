"""``textrec-serve``: usage errors exit 2 with one clear paragraph; a real dev server answers."""

from __future__ import annotations

import json
from importlib.metadata import entry_points

import numpy as np

from textrec_web.cli import main


def test_the_console_script_is_installed():
    (script,) = [e for e in entry_points(group="console_scripts") if e.name == "textrec-serve"]
    assert script.value == "textrec_web.cli:main"


def usage_error(argv: list[str], capsys) -> str:
    """Run ``textrec-serve argv``, expecting exit status 2; its stderr."""
    try:
        status = main(argv)
    except SystemExit as exit_:  # argparse's own errors
        status = exit_.code
    assert status == 2
    return capsys.readouterr().err


def test_bad_options_exit_2_with_a_clear_message(bundle, tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("TEXTREC_WEB_MODEL", raising=False)
    assert "--model BUNDLE is required" in usage_error([], capsys)
    assert "not a textrec model bundle" in usage_error(["--model", str(tmp_path / "missing")], capsys)
    assert "expected a port number" in usage_error(["--model", str(bundle), "--port", "http"], capsys)
    assert "from 0 to 65535" in usage_error(["--model", str(bundle), "--port", "70000"], capsys)
    err = usage_error(["--model", str(bundle), "--max-image-pixels", "-5"], capsys)
    assert "--max-image-pixels: expected a positive integer, got '-5'" in err
    assert "url_allow_hosts is empty" in usage_error(["--model", str(bundle), "--allow-image-url"], capsys)
    (tmp_path / "a-file").write_text("")
    err = usage_error(["--model", str(bundle), "--corrections-dir", str(tmp_path / "a-file")], capsys)
    assert "corrections_dir" in err and "cannot write there" in err and "Traceback" not in err
    monkeypatch.setenv("TEXTREC_WEB_URL_TIMEOUT", "soon")
    assert "TEXTREC_WEB_URL_TIMEOUT: expected a positive number" in usage_error(["--model", str(bundle)], capsys)


def test_bundles_that_cannot_be_served_exit_2(tmp_path, capsys):
    (tmp_path / "bundle.json").write_text("{not json")
    err = usage_error(["--model", str(tmp_path)], capsys)
    assert err.startswith("textrec-serve: error:") and "not valid JSON" in err and "Traceback" not in err
    meta = {"format": "textrec-bundle", "version": 2, "model": "NoSuchModel", "network": "nonet", "network_args": {},
            "model_args": {}, "predictor": "NoSuchPredictor", "shapes": {}, "mapping": []}
    (tmp_path / "bundle.json").write_text(json.dumps(meta))
    err = usage_error(["--model", str(tmp_path)], capsys)
    assert "NoSuchPredictor" in err and len(err.strip().splitlines()) == 1


def test_the_dev_server_serves_the_bundle_in_the_environment_with_cli_settings(launch, bundle, samples, to_png,
                                                                              tmp_path, read_corrections):
    # the option (300) overrides the variable (100): the 224 px wide line passes, a 400 px one does not
    server = launch(["--max-image-side", "300", "--corrections-dir", str(tmp_path / "fixes")],
                    TEXTREC_WEB_MODEL=str(bundle), TEXTREC_WEB_MAX_IMAGE_SIDE="100")
    reply = server.upload(samples[0].png)
    assert reply.status == 200 and reply.json()["pred"] == samples[0].pred
    wide = np.full((28, 400), 255, dtype=np.uint8)
    wide[5:20, 10:40] = 0
    reply = server.upload(to_png(wide))
    assert reply.status == 413 and "at most 300 pixels a side" in reply.json()["error"]["message"]
    assert server.request("GET", "/healthz").json()["model"]["bundle"] == str(bundle.resolve())
    lines = [entry for entry in server.log_lines() if entry.get("event") == "predict"]
    assert [(line["status"], line.get("pred_length")) for line in lines] == [(200, len(samples[0].pred)), (413, None)]
    reply = server.upload(samples[0].png, path="/v1/corrections", fields={"text": "the right words"})
    assert reply.status == 201 and reply.json() == {"line_id": "w00-000-00", "text": "the right words"}
    assert read_corrections(tmp_path / "fixes")["w00-000-00"][0] == "the right words"
