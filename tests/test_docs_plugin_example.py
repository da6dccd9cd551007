"""The worked example of docs/plugins.md works as written.

The page's code blocks are written out as the package ``textrec_tiny_cnn`` (not installed: it is
put on ``sys.path`` and registered with the ``textrec_plugin`` fixture), then built, trained for
an epoch through ``textrec-run`` on the test's own dataset and model (``toy``, tests/conftest.py)
and checked with the page's own test.
"""

from __future__ import annotations

import importlib
import json
import re
import sys
from pathlib import Path

import pytest
import torch

from textrec_core import EMNIST_MAPPING, DataShapes, load_predictor
from textrec_core.cli import main
from textrec_core.plugins import components

DOC = Path(__file__).resolve().parent.parent / "docs" / "plugins.md"
PACKAGE = "textrec_tiny_cnn"


def python_block(containing: str) -> str:
    """The one ```python block of the page that contains ``containing``."""
    blocks = [b for b in re.findall(r"^```python\n(.*?)^```", DOC.read_text(encoding="utf-8"), re.M | re.S)
              if containing in b]
    assert len(blocks) == 1, f"expected one python block containing {containing!r} in {DOC}, found {len(blocks)}"
    return blocks[0]


@pytest.fixture
def tiny_cnn_package(tmp_path, monkeypatch):
    """The page's package written to disk and importable; forgotten again after the test."""
    package = tmp_path / PACKAGE
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "network.py").write_text(python_block("def tiny_cnn"))
    (package / "plugin.py").write_text(python_block("@hookimpl"))
    monkeypatch.syspath_prepend(str(tmp_path))
    yield package
    for name in [m for m in sys.modules if m == PACKAGE or m.startswith(PACKAGE + ".")]:
        del sys.modules[name]


@pytest.fixture
def tiny_cnn_plugin(toy, tiny_cnn_package, textrec_plugin):
    """The page's plugin beside the test's toy dataset and model (tests/conftest.py), with no
    installed plugin loaded."""
    textrec_plugin(importlib.import_module(f"{PACKAGE}.plugin"), name="textrec-tiny-cnn")
    return toy


def test_the_plugin_registers_tiny_cnn_with_its_alias(tiny_cnn_plugin):
    entry = components()["network"].get("tiny")
    assert (entry.name, entry.aliases, entry.provider) == ("tiny_cnn", ("tiny",), "textrec-tiny-cnn")
    assert entry.summary == "One convolution and a linear classifier, for single characters."


def test_the_network_builds_and_classifies_characters(tiny_cnn_plugin):
    network = components().get("network", "tiny")(DataShapes((28, 28), (), EMNIST_MAPPING), channels=4)
    assert network(torch.rand(3, 28, 28)).shape == (3, len(EMNIST_MAPPING))


def test_mistyped_network_args_are_rejected_as_the_page_says(tiny_cnn_plugin, capsys):
    assert main(["--nowandb", tiny_cnn_plugin.config(network="tiny", network_args={"channels": "8"})]) == 2
    assert "network_args.channels: expected int, got str ('8')" in capsys.readouterr().err


def test_a_bad_channel_count_is_refused_before_any_data_work(tiny_cnn_plugin, capsys):
    assert main(["--nowandb", tiny_cnn_plugin.config(network="tiny", network_args={"channels": 0})]) == 2
    assert "network_args.channels: must be at least 1, got 0" in capsys.readouterr().err
    assert tiny_cnn_plugin.Stripes.prepared == []


def test_the_network_trains_for_an_epoch_through_textrec_run(tiny_cnn_plugin, one_thread, tmp_path):
    config = tiny_cnn_plugin.config(network="tiny", network_args={"channels": 8},
                                    train_args={"epochs": 1, "batch_size": 32, "learning_rate": 0.03})
    assert main(["--save", "--quiet", "--nowandb", config]) == 0
    (run,) = (tmp_path / "runs").iterdir()
    metrics = json.loads((run / "metrics.json").read_text())
    assert len(metrics["history"]["train_loss"]) == 1
    assert metrics["test"]["accuracy"] > 0.8  # two classes: well above chance after one epoch
    predictor = load_predictor(run / "model")
    assert predictor.bundle.meta["network"] == "tiny_cnn"
    assert predictor.predict(tiny_cnn_plugin.stripe_image(0, 12, 6))[0] == "|"


def test_the_pages_own_test_passes(tiny_cnn_package, bare_host, textrec_plugin):
    namespace: dict = {}
    exec(compile(python_block("def test_tiny_cnn_is_registered_and_builds"), str(DOC), "exec"), namespace)
    namespace["test_tiny_cnn_is_registered_and_builds"](textrec_plugin)
    assert "tiny_cnn" in components()["network"]  # registered for this test only
