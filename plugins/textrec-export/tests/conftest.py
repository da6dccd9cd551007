"""Fixtures of textrec-export's tests: saved bundles of the networks exported (and refused), real lines
to read (the scanned IAM lines of the data mirror, and IAM-OnDB lines drawn from their pen strokes as
``IamOnDbDataset`` draws its test lines), and ``textrec-export`` run in this process."""

from __future__ import annotations

import tarfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

import textrec_attention.plugin
import textrec_line_cnn.plugin
import textrec_lines.plugin
import textrec_lstm_ctc.plugin
from textrec_core import DataShapes
from textrec_core.mapping import LINE_MAPPING
from textrec_core.plugins import components
from textrec_export.cli import main
from textrec_iam_ondb.rendering import render_strokes
from textrec_iam_ondb.strokes import parse_strokes

#: A small line_lstm_ctc, quick to build and export.
SMALL_CTC = {"window_width": 12, "window_stride": 4, "conv_channels": 4, "lstm_size": 8, "lstm_layers": 2}
#: The shapes of the small bundles: 32-pixel lines of up to 8 EMNIST-lines characters.
SHAPES = DataShapes((32, 28 * 8), (8,), LINE_MAPPING)
#: How many IAM-OnDB lines are drawn, from the first forms of the archive.
ONDB_LINES = 8


@pytest.fixture(autouse=True)
def host(bare_host: None, textrec_plugin: Callable[..., str]) -> None:
    """Every test sees the line plugins (the exported networks and the refused one), and no other plugin."""
    textrec_plugin(textrec_lines.plugin, name="textrec-lines")
    textrec_plugin(textrec_lstm_ctc.plugin, name="textrec-lstm-ctc")
    textrec_plugin(textrec_line_cnn.plugin, name="textrec-line-cnn")
    textrec_plugin(textrec_attention.plugin, name="textrec-attention")


@pytest.fixture
def save_bundle(tmp_path: Path) -> Callable[..., Path]:
    """``save_bundle(name, model, network, network_args, seed=0) -> path``: an untrained (seeded)
    bundle of ``model`` on ``network`` for :data:`SHAPES`, saved as ``tmp_path / name``."""

    def save(name: str, model: str, network: str, network_args: dict[str, Any], seed: int = 0) -> Path:
        table = components()
        torch.manual_seed(seed)
        built = table.get("model", model).for_inference(table.get("network", network)(SHAPES, **network_args), SHAPES)
        return built.save(tmp_path / name, model=model, network=network, network_args=network_args, model_args={})

    return save


@pytest.fixture
def ctc_bundle(save_bundle: Callable[..., Path]) -> Path:
    """A small untrained LineModelCtc + line_lstm_ctc bundle."""
    return save_bundle("ctc", "LineModelCtc", "line_lstm_ctc", SMALL_CTC)


@pytest.fixture
def other_ctc_bundle(save_bundle: Callable[..., Path]) -> Path:
    """A bundle of the same network as :func:`ctc_bundle`'s, with other weights."""
    return save_bundle("other-ctc", "LineModelCtc", "line_lstm_ctc", SMALL_CTC, seed=1)


@pytest.fixture(scope="session")
def scans(mirror_dir: Path) -> list[Path]:
    """The eleven real scanned IAM lines of the data mirror's ``iam-sample``, as image files."""
    return sorted((mirror_dir / "iam-sample" / "lines").rglob("*.png"))


@pytest.fixture(scope="session")
def ondb_lines(mirror_dir: Path) -> list[np.ndarray]:
    """:data:`ONDB_LINES` real IAM-OnDB lines (uint8, bright ink on dark), drawn from the pen strokes
    of the first line files of the mirror's ``lineStrokes-all.tar.gz`` as ``IamOnDbDataset`` draws
    its test lines (64 pixels high, at most 1024 wide, its fixed style)."""
    lines = []
    with tarfile.open(mirror_dir / "iam-ondb" / "lineStrokes-all.tar.gz") as archive:
        for member in archive:
            if member.isfile() and member.name.endswith(".xml"):
                lines.append(render_strokes(parse_strokes(archive.extractfile(member).read()), 64, 1024))
                if len(lines) == ONDB_LINES:
                    break
    return lines


@pytest.fixture
def run_export(capsys: pytest.CaptureFixture[str]) -> Callable[..., tuple[int, str, str]]:
    """``run_export(*argv) -> (exit status, stdout, stderr)`` of textrec-export in this process."""

    def run(*argv: str | Path) -> tuple[int, str, str]:
        status = main([str(arg) for arg in argv])
        captured = capsys.readouterr()
        return status, captured.out, captured.err

    return run
