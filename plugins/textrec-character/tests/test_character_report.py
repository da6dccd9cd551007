"""The confusion-matrix plot: a PNG written atomically, and matplotlib loaded only to draw it."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
from PIL import Image

from textrec_character.report import plot_confusion_matrix


def test_the_plot_is_a_png_at_the_path_with_no_leftovers(tmp_path):
    matrix = np.array([[5, 1, 0], [0, 0, 0], [2, 0, 7]])  # the middle class has no samples
    path = plot_confusion_matrix(matrix, ["a", "b", "c"], tmp_path / "matrix.png", title="three classes")
    assert path == tmp_path / "matrix.png"
    assert [p.name for p in tmp_path.iterdir()] == ["matrix.png"]
    with Image.open(path) as image:
        assert image.format == "PNG" and min(image.size) >= 200
        image.verify()


def test_importing_the_plugin_does_not_load_matplotlib():
    code = ("import sys, textrec_character, textrec_character.plugin; "
            "sys.exit('matplotlib' in sys.modules)")
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0
