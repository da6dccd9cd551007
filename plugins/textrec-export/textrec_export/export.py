"""``export_onnx``: a bundle's network written as an ONNX graph, checked against the network, atomically.

By default the graph goes into the bundle, as ``<bundle>/graph/network.onnx`` with ``graph.json``
beside it (``textrec_core.predictor``'s :data:`~textrec_core.predictor.GRAPH_DIR`,
:data:`~textrec_core.predictor.GRAPH_FILE` and :data:`~textrec_core.predictor.GRAPH_META`), where
``load_predictor`` finds it and ``Bundle.digest`` counts it; or into another folder. ``graph.json``
records the format, the ONNX ``opset``, the versions of ``torch``, ``onnx`` and ``onnxruntime``, the
``network``, the ``weights_sha256`` of the weights it was exported from, the ``input`` and ``output``
names, the ``dynamic_axes`` and what was ``verified``.

The graph is traced from the network's form (:mod:`textrec_export.forms`), checked by ONNX's
checker, then run in ONNX Runtime against the eager network (:mod:`textrec_export.verify`); only a
graph that passes replaces the folder's contents, and a failure leaves nothing behind.
"""

from __future__ import annotations

import os
import sys
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import onnx
import onnxruntime
import torch

from textrec_core.bundle import WEIGHTS_FILE, Bundle
from textrec_core.components import Components
from textrec_core.errors import ConfigError
from textrec_core.plugins import components as installed_components
from textrec_core.predictor import GRAPH_DIR, GRAPH_FILE, GRAPH_META
from textrec_core.services.download import sha256_file
from textrec_core.services.fileio import write_json
from textrec_export.folders import replacing_folder
from textrec_export.forms import Form, UnsupportedNetwork, check_exportable, graph_form
from textrec_export.verify import ATOL, EXTRA_WIDTHS, RTOL, sample_batches, verify

#: The ONNX opset written: the first with LayerNormalization as one operator.
OPSET = 17
INPUT, OUTPUT = "images", "logits"


@dataclass(frozen=True)
class Exported:
    """Where the graph was written (``folder``) and its ``graph.json`` (``meta``)."""

    folder: Path
    meta: dict[str, Any]


def export_onnx(bundle_dir: Path | str, out: Path | None = None, components: Components | None = None) -> Exported:
    """Export the network of the bundle at ``bundle_dir`` into ``<bundle>/graph`` (or ``out``).

    Raises :class:`~textrec_core.errors.BundleError` for a path that is no readable bundle,
    :class:`~textrec_export.forms.UnsupportedNetwork` for a network that cannot be exported,
    :class:`~textrec_core.errors.ConfigError` for a target that is not a folder of an earlier
    export (or whose parent does not exist), before any work; and
    :class:`~textrec_export.verify.GraphMismatch` when the graph's output differs from the network's.
    """
    bundle = Bundle(bundle_dir)
    name = bundle.meta["network"]
    check_exportable(name)
    target = Path(out) if out is not None else bundle.path / GRAPH_DIR
    check_target(target, "--out" if out is not None else "BUNDLE")
    table = components if components is not None else installed_components()
    network = bundle.build_network(table.get("network", name))
    form = graph_form(name, network)
    height, width = bundle.shapes.input_shape
    widths = sorted({width, *EXTRA_WIDTHS}) if form.dynamic_width else [width]
    with replacing_folder(target) as folder:
        trace(name, form, sample_batches(height, [width], seed=1)[-1], folder / GRAPH_FILE)
        verification = verify(folder / GRAPH_FILE, INPUT, network, sample_batches(height, widths))
        meta = {
            "format": "onnx", "file": GRAPH_FILE, "opset": opset_of(folder / GRAPH_FILE), "torch": torch.__version__,
            "onnx": onnx.__version__, "onnxruntime": onnxruntime.__version__, "network": name,
            "weights_sha256": sha256_file(bundle.path / WEIGHTS_FILE), "input": INPUT, "output": OUTPUT,
            "dynamic_axes": dynamic_axes(form),
            "verified": {"inputs": [list(shape) for shape in verification.shapes],
                         "max_abs_difference": verification.max_difference, "rtol": RTOL, "atol": ATOL},
        }
        write_json(folder / GRAPH_META, meta)
    return Exported(target, meta)


def check_target(target: Path, argument: str) -> None:
    """:class:`ConfigError` at ``argument`` unless ``target`` is absent beside an existing folder, or
    is a folder holding nothing but an earlier export (which it is safe to replace)."""
    if not target.parent.is_dir():
        raise ConfigError(argument, f"{str(target.parent)!r} is not a folder")
    if not target.exists():
        return
    if not target.is_dir():
        raise ConfigError(argument, f"{str(target)!r} exists and is not a folder")
    others = sorted(path.name for path in target.iterdir() if path.name not in (GRAPH_FILE, GRAPH_META))
    if others:
        raise ConfigError(argument, f"{str(target)!r} holds other files than an exported graph "
                                    f"({', '.join(others)}): refusing to replace it")


def dynamic_axes(form: Form) -> dict[str, dict[int, str]]:
    """The batch is dynamic; with a dynamic width, the output's frames follow it."""
    if form.dynamic_width:
        return {INPUT: {0: "batch", 2: "width"}, OUTPUT: {0: "batch", 1: "frames"}}
    return {INPUT: {0: "batch"}, OUTPUT: {0: "batch"}}


@contextmanager
def tracer_notes_silenced() -> Iterator[None]:
    """Silence the tracer's notes on sizes and shapes, Python warnings and the lines torch's C++ code
    writes to the standard error stream alike: the verification against the network is what counts,
    and the exporter's real failures are exceptions."""
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "wb") as devnull, warnings.catch_warnings():
            warnings.simplefilter("ignore")
            os.dup2(devnull.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def trace(name: str, form: Form, example: torch.Tensor, path: Path) -> None:
    """Trace ``form`` on ``example`` into the ONNX file ``path`` and check it with ONNX's checker;
    :class:`UnsupportedNetwork` when either fails."""
    with tracer_notes_silenced():
        try:
            torch.onnx.export(form.module.eval(), (example,), str(path), dynamo=False, input_names=[INPUT],
                              output_names=[OUTPUT], dynamic_axes=dynamic_axes(form), opset_version=OPSET)
            onnx.checker.check_model(str(path))
        except Exception as exc:  # the exporter and checker raise many types for what they cannot express
            raise UnsupportedNetwork(f"network {name!r} cannot be exported: {type(exc).__name__}: {exc}") from None


def opset_of(path: Path) -> int:
    """The version of the default ONNX operator set the graph at ``path`` uses."""
    model = onnx.load(str(path), load_external_data=False)
    return next(entry.version for entry in model.opset_import if entry.domain in ("", "ai.onnx"))
