"""How well a model reads lines drawn on the web page's canvas, simulated without a browser.

Every ``--every``-th line of IAM-OnDB's test split is drawn from its real pen strokes as the
canvas would draw it: scaled to fill 84 % of the 800 x 160 canvas (width or height, whichever
binds first), centred, with a pen of ``--pens`` pixels, dark on white; the model's predictor
reads the canvases greedily and the CER against the texts is printed per pen width::

    TEXTREC_DATA_MIRROR=../shared/mirror python docs/tools/canvas_simulation.py runs/<run>/model --pens 3,8
    TEXTREC_DATA_MIRROR=../shared/mirror python docs/tools/canvas_simulation.py runs/<run>/model --whole-canvas
"""

from __future__ import annotations

import argparse

import numpy as np

from textrec_core.predictor import load_predictor
from textrec_core.services.metrics import character_error_rate
from textrec_iam_ondb.dataset import IamOnDbDataset
from textrec_iam_ondb.rendering import Style, render_strokes

CANVAS = (160, 800)
FILL = 0.84


def drawn_on_canvas(strokes: list[np.ndarray], pen: int) -> np.ndarray:
    """The canvas (uint8, dark ink on white) with ``strokes`` drawn by a ``pen``-pixel pen."""
    points = np.concatenate(strokes)
    width, height = np.ptp(points, axis=0)
    ink_height = height * min(CANVAS[1] * FILL / max(width, 1), CANVAS[0] * FILL / max(height, 1))
    image_height = max(16, round(ink_height * 16 / 14))  # the renderer leaves height // 16 above and below
    line = render_strokes(strokes, image_height, 10 * CANVAS[1], Style(pen_width=pen / image_height))
    canvas = np.zeros(CANVAS, np.uint8)
    top, left = (CANVAS[0] - line.shape[0]) // 2, max(0, (CANVAS[1] - line.shape[1]) // 2)
    shown = line[: CANVAS[0], : CANVAS[1] - left]
    canvas[max(top, 0) : max(top, 0) + shown.shape[0], left : left + shown.shape[1]] = shown
    return 255 - canvas


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("bundle")
    parser.add_argument("--pens", default="3,8", help="comma-separated pen widths in pixels (3,8)")
    parser.add_argument("--every", type=int, default=12, help="read every n-th test line (12)")
    parser.add_argument("--whole-canvas", action="store_true",
                        help="scale the whole canvas to the model's height, as if its data were not framed by its ink")
    args = parser.parse_args()
    dataset = IamOnDbDataset()
    dataset.prepare()
    test = dataset.splits["test"]
    predictor = load_predictor(args.bundle, model_args={"decoder": "greedy"})
    if args.whole_canvas:
        predictor.ink_margin = None
    mapping = predictor.model.mapping
    chosen = range(0, len(test), args.every)
    truths = [mapping.spell(test.labels[i].tolist()) for i in chosen]
    for pen in (int(p) for p in args.pens.split(",")):
        canvases = [drawn_on_canvas(test.lines.strokes(i), pen) for i in chosen]
        readings = [text for text, _ in predictor.predict_batch(canvases)]
        print(f"pen {pen} px: CER {character_error_rate(readings, truths):.4f} over {len(truths)} lines")


if __name__ == "__main__":
    main()
