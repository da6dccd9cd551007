"""Write a real IAM-OnDB line on the web page's drawing canvas, as a person would with a mouse, and
screenshot what the served model reads.

The pen strokes of one line of IAM-OnDB's test split (``IamOnDbDataset``, mirror or official
archives) are scaled into the canvas and replayed as W3C WebDriver pointer actions (press, move
through the points, release) in headless Chromium driven through chromedriver; then the page's
Recognize button is pressed and the page is saved as a PNG. Needs Debian's ``chromium`` and
``chromium-driver`` and a running ``textrec-serve`` (or gunicorn) with a line model::

    textrec-serve --model runs/<run>/model --port 8000 &
    TEXTREC_DATA_MIRROR=../shared/mirror python docs/tools/canvas_replay.py http://127.0.0.1:8000 \\
        --line 3 --out docs/images/canvas-reading.png
"""

from __future__ import annotations

import argparse
import base64
import json
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

import numpy as np

from textrec_iam_ondb.dataset import IamOnDbDataset

ELEMENT = "element-6066-11e4-a52e-4f735466cecf"
CHROMIUM_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--window-size=1000,640"]
#: Points kept per stroke at most (every n-th point): enough for the shape, few enough actions.
POINTS_PER_STROKE = 40


def call(url: str, payload: Any = None, method: str = "POST") -> Any:
    data = None if method == "GET" else json.dumps(payload or {}).encode()
    request = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=120) as response:
        return json.loads(response.read())["value"]


def pointer_actions(strokes: list[np.ndarray], canvas: dict[str, str], size: tuple[float, float]) -> list[dict]:
    """Strokes scaled into the canvas (``size`` in CSS pixels, 8 % margin), as pointer actions
    relative to the canvas' centre, the origin WebDriver uses for an element."""
    points = np.concatenate(strokes).astype(float)
    low, high = points.min(axis=0), points.max(axis=0)
    width, height = size
    scale = min(width * 0.84 / max(high[0] - low[0], 1), height * 0.84 / max(high[1] - low[1], 1))
    centre = (low + high) / 2
    actions: list[dict] = []
    for stroke in strokes:
        step = max(1, len(stroke) // POINTS_PER_STROKE)
        xy = [((x - centre[0]) * scale, (y - centre[1]) * scale) for x, y in stroke[::step].astype(float)]
        x0, y0 = xy[0]
        actions += [{"type": "pointerMove", "origin": canvas, "x": round(x0), "y": round(y0)},
                    {"type": "pointerDown", "button": 0}]
        actions += [{"type": "pointerMove", "origin": canvas, "x": round(x), "y": round(y)} for x, y in xy[1:]]
        actions.append({"type": "pointerUp", "button": 0})
    return actions


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("url", help="the served page, e.g. http://127.0.0.1:8000")
    parser.add_argument("--line", type=int, default=0, help="index of the line in IAM-OnDB's test split")
    parser.add_argument("--out", type=Path, required=True, help="the screenshot to write (PNG)")
    args = parser.parse_args()

    dataset = IamOnDbDataset()
    dataset.prepare()
    lines = dataset.test.lines
    strokes, truth = lines.strokes(args.line), str(lines.texts[args.line])

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    driver = subprocess.Popen([shutil.which("chromedriver"), f"--port={port}", "--allowed-ips=127.0.0.1"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                if call(f"{base}/status", method="GET")["ready"]:
                    break
            except OSError:
                time.sleep(0.1)
        profile = tempfile.mkdtemp(prefix="chromium-profile-")
        options = {"binary": shutil.which("chromium"), "args": [*CHROMIUM_ARGS, f"--user-data-dir={profile}"]}
        session = call(f"{base}/session", {"capabilities": {"alwaysMatch": {
            "browserName": "chrome", "goog:chromeOptions": options}}})["sessionId"]
        web = f"{base}/session/{session}"
        call(f"{web}/url", {"url": args.url.rstrip("/") + "/"})
        canvas = {ELEMENT: call(f"{web}/element", {"using": "css selector", "value": "#canvas"})[ELEMENT]}
        rect = call(f"{web}/element/{canvas[ELEMENT]}/rect", method="GET")
        call(f"{web}/actions", {"actions": [{"type": "pointer", "id": "pen", "parameters": {"pointerType": "mouse"},
                                             "actions": pointer_actions(strokes, canvas,
                                                                        (rect["width"], rect["height"]))}]})
        button = call(f"{web}/element", {"using": "css selector", "value": "#recognize"})[ELEMENT]
        call(f"{web}/element/{button}/click")
        for _ in range(600):
            state = call(f"{web}/execute/sync", {"script": 'const r = document.getElementById("result"); return '
                                                 '[r.dataset.state, document.getElementById("pred").textContent];',
                                                 "args": []})
            if state[0] in ("done", "error"):
                break
            time.sleep(0.1)
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_bytes(base64.b64decode(call(f"{web}/screenshot", method="GET")))
        print(f"truth:   {truth}\nreading: {state[1]}  ({state[0]})\nscreenshot: {args.out}")
        call(web, method="DELETE")
    finally:
        driver.terminate()
        driver.wait(timeout=30)


if __name__ == "__main__":
    main()
