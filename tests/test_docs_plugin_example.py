"""The worked example of docs/plugins.md works as written.

The page's code blocks are written out as the package ``textrec_tiny_cnn`` (not installed: it is
put on ``sys.path`` and registered with the ``textrec_plugin`` fixture), then built, trained for
an epoch through ``textrec-run`` and checked with the page's own test.
"""

from __future__ import annotations

import importlib
import json
import re
import sys
from pathlib import Path

import pytest
import torch

from textrec_core import DataShapes, load_predictor
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
def tiny_cnn_plugin(tiny_cnn_package, textrec_plugin):
    textrec_plugin(importlib.import_module(f"{PACKAGE}.plugin"), name="textrec-tiny-cnn")


def test_the_plugin_registers_tiny_cnn_with_its_alias(tiny_cnn_plugin):
    entry = components()["network"].get("tiny")
    assert (entry.name, entry.aliases, entry.provider) == ("tiny_cnn", ("tiny",), "textrec-tiny-cnn")
    assert entry.summary == "One convolution and a linear classifier, for single characters."


def test_the_network_builds_and_classifies_characters(tiny_cnn_plugin):
    network = components().get("network", "tiny")(DataShapes((28, 28), (), 62), channels=4)
    assert network(torch.rand(3, 28, 28)).shape == (3, 62)


def test_mistyped_network_args_are_rejected_as_the_page_says(tiny_cnn_plugin, capsys):
    config = {"dataset": "synthetic", "model": "CharacterModel", "network": "tiny", "network_args": {"channels": "8"}}
    assert main(["--nowandb", json.dumps(config)]) == 2
    assert "network_args.channels: expected int, got str ('8')" in capsys.readouterr().err


def test_the_network_trains_for_an_epoch_through_textrec_run(tiny_cnn_plugin, one_thread, tmp_path):
    config = {
        "dataset": "synthetic", "dataset_args": {"num_train": 300, "num_val": 100, "num_test": 100},
        "model": "CharacterModel", "network": "tiny", "network_args": {"channels": 8},
        "train_args": {"epochs": 1, "batch_size": 64},
    }
    assert main(["--save", "--quiet", "--nowandb", json.dumps(config)]) == 0
    (run,) = (tmp_path / "runs").iterdir()
    metrics = json.loads((run / "metrics.json").read_text())
    assert len(metrics["history"]["train_loss"]) == 1
    assert 0 <= metrics["test"]["accuracy"] <= 1
    text, confidence = load_predictor(run / "model").predict(torch.rand(28, 28).numpy())
    assert len(text) == 1 and 0 <= confidence <= 1


def test_the_pages_own_test_passes(tiny_cnn_package, textrec_plugin):
    namespace: dict = {}
    exec(compile(python_block("def test_tiny_cnn_is_registered_and_builds"), str(DOC), "exec"), namespace)
    namespace["test_tiny_cnn_is_registered_and_builds"](textrec_plugin)
    assert "tiny_cnn" in components()["network"]  # registered for this test only
