"""The page in headless Chromium, driven through chromedriver's W3C WebDriver HTTP API (no selenium).

Skipped where ``chromium`` or ``chromedriver`` is not installed (Debian: ``apt-get install
chromium chromium-driver``).
"""

from __future__ import annotations

import base64
import io
import json
import re
import shutil
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pytest
from PIL import Image

from textrec_iam.layout import image_path

BROWSER = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
DRIVER = shutil.which("chromedriver")
ELEMENT = "element-6066-11e4-a52e-4f735466cecf"  # the W3C key of an element reference
STATE = """const r = document.getElementById("result");
return [r.dataset.state, document.getElementById("pred").textContent,
        document.getElementById("conf").textContent, document.getElementById("error").textContent];"""
CORRECTION = """const c = document.getElementById("correction");
return [c.hidden, c.dataset.state, document.getElementById("correction-text").value,
        document.getElementById("correction-answer").textContent];"""

pytestmark = pytest.mark.skipif(BROWSER is None or DRIVER is None,
                                reason="headless browser test needs chromium and chromedriver on PATH "
                                "(Debian: apt-get install chromium chromium-driver)")


class WebDriver:
    """The few W3C WebDriver commands the test needs, over HTTP to a local chromedriver."""

    def __init__(self, base_url: str, session: str) -> None:
        self.base = f"{base_url}/session/{session}"

    @staticmethod
    def call(url: str, method: str = "POST", payload: Any = None) -> Any:
        data = None if method == "GET" else json.dumps(payload or {}).encode()
        request = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                return json.loads(response.read())["value"]
        except urllib.error.HTTPError as exc:
            raise AssertionError(f"WebDriver {method} {url}: {exc.read().decode()[:500]}") from None

    def command(self, path: str, payload: Any = None, method: str = "POST") -> Any:
        return self.call(f"{self.base}/{path}", method, payload)

    def element(self, css: str) -> str:
        return self.command("element", {"using": "css selector", "value": css})[ELEMENT]

    def click(self, css: str) -> None:
        self.command(f"element/{self.element(css)}/click")

    def script(self, source: str) -> Any:
        return self.command("execute/sync", {"script": source, "args": []})

    def type_into(self, css: str, text: str) -> None:
        element = self.element(css)
        self.command(f"element/{element}/clear")
        self.command(f"element/{element}/value", {"text": text})

    def wait_for(self, source: str, done: Callable[[Any], bool], timeout: float = 60) -> Any:
        """What the script ``source`` returns, once ``done`` accepts it."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = self.script(source)
            if done(value):
                return value
            time.sleep(0.1)
        raise AssertionError(f"the page did not get there in {timeout} s: {value}")

    def wait_for_answer(self, timeout: float = 60) -> list[str]:
        """#result's state, #pred, #conf and #error once the page has an answer (done or error)."""
        return self.wait_for(STATE, lambda state: state[0] in ("done", "error"), timeout)

    def wait_for_correction(self, timeout: float = 60) -> list[Any]:
        """#correction's hidden and state, the text field and the answer, once it is shown and idle,
        saved or refused."""
        return self.wait_for(CORRECTION, lambda c: not c[0] and c[1] in ("idle", "saved", "error"), timeout)


@pytest.fixture(scope="module")
def browser(tmp_path_factory, unused_port) -> Iterator[WebDriver]:
    port = unused_port()
    driver = subprocess.Popen([DRIVER, f"--port={port}", "--allowed-ips=127.0.0.1"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if WebDriver.call(f"{base}/status", "GET")["ready"]:
                    break
            except (OSError, AssertionError):
                if time.monotonic() > deadline:
                    raise
            time.sleep(0.1)
        profile = tmp_path_factory.mktemp("chromium-profile")
        options = {"binary": BROWSER, "args": [
            "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--window-size=1000,800", f"--user-data-dir={profile}"]}
        session = WebDriver.call(f"{base}/session", payload={
            "capabilities": {"alwaysMatch": {"browserName": "chrome", "goog:chromeOptions": options}}})
        web = WebDriver(base, session["sessionId"])
        yield web
        web.call(web.base, "DELETE")
    finally:
        driver.terminate()
        driver.wait(timeout=30)


def test_an_uploaded_line_is_read_as_the_predictor_reads_it(browser, gunicorn_server, samples):
    sample = samples[3]
    browser.command("url", {"url": gunicorn_server.url + "/"})
    browser.command(f"element/{browser.element('#file')}/value", {"text": str(sample.path)})
    browser.click("#recognize")
    state, pred, conf, error = browser.wait_for_answer()
    assert (state, error) == ("done", "")
    assert pred == sample.pred
    assert float(conf) == pytest.approx(sample.conf, abs=1e-3)
    assert browser.script(CORRECTION)[0] is True  # this server stores no corrections: none offered


def draw_a_line(browser: WebDriver) -> Image.Image:
    """Draw four strokes on the page's canvas with the mouse; the canvas as drawn."""
    canvas = {ELEMENT: browser.element("#canvas")}
    strokes = []
    for x0, y0, x1, y1 in [(-300, -30, -300, 40), (-250, -30, -200, 40), (-150, 0, -60, 0), (0, -40, 40, 40)]:
        strokes += [{"type": "pointerMove", "origin": canvas, "x": x0, "y": y0},
                    {"type": "pointerDown", "button": 0},
                    {"type": "pointerMove", "origin": canvas, "x": x1, "y": y1, "duration": 50},
                    {"type": "pointerUp", "button": 0}]
    browser.command("actions", {"actions": [
        {"type": "pointer", "id": "pen", "parameters": {"pointerType": "mouse"}, "actions": strokes}]})
    drawn = browser.script('return document.getElementById("canvas").toDataURL("image/png");')
    return Image.open(io.BytesIO(base64.b64decode(drawn.split(",", 1)[1])))


def test_a_line_drawn_on_the_canvas_is_read_and_clear_empties_it(browser, gunicorn_server, predictor):
    browser.command("url", {"url": gunicorn_server.url + "/"})
    image = draw_a_line(browser)
    browser.click("#recognize")
    state, pred, conf, error = browser.wait_for_answer()
    assert (state, error) == ("done", "")
    assert image.size == (800, 160) and image.convert("L").getextrema() == (0, 255)  # black ink on white
    assert pred == predictor.predict(image.convert("L"))[0]

    browser.click("#clear")
    assert browser.script(STATE) == ["idle", "", "", ""]
    browser.click("#recognize")  # an empty canvas is blank: the server's message is shown
    state, pred, _, error = browser.wait_for_answer()
    assert state == "error" and pred == "" and "blank" in error


def test_a_reading_is_corrected_end_to_end(browser, corrections_server, corrections_folder, samples, read_corrections):
    browser.command("url", {"url": corrections_server.url + "/"})
    drawn = draw_a_line(browser)
    browser.click("#recognize")
    state, pred, _, _ = browser.wait_for_answer()
    assert state == "done"
    _, state, text, answer = browser.wait_for_correction()
    assert (state, text, answer) == ("idle", pred, "")  # offered, pre-filled with the reading

    browser.type_into("#correction-text", "cats|dogs")
    browser.click("#correct")
    _, state, _, answer = browser.wait_for(CORRECTION, lambda c: c[1] in ("saved", "error"))
    assert state == "error" and answer.startswith("Could not save the correction:") and "'|'" in answer

    browser.type_into("#correction-text", "my own words")
    browser.click("#correct")
    _, state, _, answer = browser.wait_for(CORRECTION, lambda c: c[1] in ("saved", "error"))
    assert state == "saved", answer
    (drawn_id,) = re.findall(r"w\d\d-\d\d\d-\d\d", answer)
    with Image.open(corrections_folder / image_path(drawn_id)) as stored:  # the canvas, in gray
        assert np.array_equal(np.asarray(stored), np.asarray(drawn.convert("L")))

    sample = samples[5]  # a chosen file is sent as it is, with the text
    browser.command(f"element/{browser.element('#file')}/value", {"text": str(sample.path)})
    assert browser.script(CORRECTION)[0] is True  # a new image: the old reading's offer is gone
    browser.click("#recognize")
    assert browser.wait_for_answer()[:2] == ["done", sample.pred]
    assert browser.wait_for_correction()[2] == sample.pred
    browser.type_into("#correction-text", "the right text")
    browser.click("#correct")
    _, state, _, answer = browser.wait_for(CORRECTION, lambda c: c[1] in ("saved", "error"))
    assert state == "saved", answer
    (file_id,) = re.findall(r"w\d\d-\d\d\d-\d\d", answer)

    lines = read_corrections(corrections_folder)
    assert (lines[drawn_id][0], lines[file_id][0]) == ("my own words", "the right text")
