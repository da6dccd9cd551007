"""The page in headless Chromium, driven through chromedriver's W3C WebDriver HTTP API (no selenium).

Skipped where ``chromium`` or ``chromedriver`` is not installed (Debian: ``apt-get install
chromium chromium-driver``).
"""

from __future__ import annotations

import base64
import io
import json
import shutil
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from PIL import Image

BROWSER = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
DRIVER = shutil.which("chromedriver")
ELEMENT = "element-6066-11e4-a52e-4f735466cecf"  # the W3C key of an element reference
STATE = """const r = document.getElementById("result");
return [r.dataset.state, document.getElementById("pred").textContent,
        document.getElementById("conf").textContent, document.getElementById("error").textContent];"""

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

    def wait_for_answer(self, timeout: float = 60) -> list[str]:
        """#result's state, #pred, #conf and #error once the page has an answer (done or error)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            state = self.script(STATE)
            if state[0] in ("done", "error"):
                return state
            time.sleep(0.1)
        raise AssertionError(f"the page gave no answer in {timeout} s: {state}")


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


def test_a_line_drawn_on_the_canvas_is_read_and_clear_empties_it(browser, gunicorn_server, predictor):
    browser.command("url", {"url": gunicorn_server.url + "/"})
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
    browser.click("#recognize")
    state, pred, conf, error = browser.wait_for_answer()
    assert (state, error) == ("done", "")
    image = Image.open(io.BytesIO(base64.b64decode(drawn.split(",", 1)[1])))
    assert image.size == (800, 160) and image.convert("L").getextrema() == (0, 255)  # black ink on white
    assert pred == predictor.predict(image.convert("L"))[0]

    browser.click("#clear")
    assert browser.script(STATE) == ["idle", "", "", ""]
    browser.click("#recognize")  # an empty canvas is blank: the server's message is shown
    state, pred, _, error = browser.wait_for_answer()
    assert state == "error" and pred == "" and "blank" in error
