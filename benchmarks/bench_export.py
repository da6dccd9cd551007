"""Serving a CTC line model from its exported ONNX graph (ONNX Runtime) versus eagerly (torch), in one run.

The bundle (``--bundle``: the IAM-OnDB ``line_lstm_ctc`` of docs/performance.md; without it a freshly
initialised one of the same size, 4.7 M parameters: the weights do not change the speed) is copied
and exported with ``textrec-export``'s :func:`~textrec_export.export_onnx`. Both predictors
(``load_predictor(..., runtime="torch")`` and ``runtime="onnx"``) then read the same real lines: the
eleven scanned IAM lines of ``iam-sample`` and ``--ondb-lines`` rendered lines of IAM-OnDB's test
split, at their own widths. First every line is read by both, greedily and with the beam, and the
readings compared; then, on ``--threads`` threads for both runtimes, in ``--rounds`` rounds:

- throughput: lines per second of ``predict_batch`` over all the lines, in batches of ``--batch``
  lines in the data's order (each padded to its widest line), median of the rounds; end to end
  (preprocessing, network, greedy decoding), and for the network's forward pass alone;
- latency: ``predict(line)`` of each of the first ``--latency-lines`` lines alone, median and p99
  over every call of every round.

The two runtimes take turns batch by batch and line by line (which goes first alternates), so a
machine whose load changes slows both alike. The speed-ups are torch's time over ONNX Runtime's
(above 1: ONNX Runtime is faster).

    TEXTREC_DATA_MIRROR=../shared/mirror python benchmarks/bench_export.py --bundle runs/<run>/model
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from textrec_core import load_predictor
from textrec_core.plugins import components
from textrec_core.predictor import Predictor
from textrec_core.services.download import data_mirror
from textrec_export import export_onnx
from textrec_iam_ondb import IamOnDbDataset

#: The IAM-OnDB model's network arguments (README, "Real handwriting").
NETWORK_ARGS = {"window_width": 24, "window_stride": 8, "lstm_size": 192, "conv_channels": 32, "lstm_layers": 2}
RUNTIMES = ("torch", "onnx")


def fresh_bundle(dataset: IamOnDbDataset, path: Path) -> Path:
    """A freshly initialised LineModelCtc + line_lstm_ctc of the IAM-OnDB model's size, saved at ``path``."""
    table = components()
    network = table.get("network", "line_lstm_ctc")(dataset.shapes, **NETWORK_ARGS)
    model = table.get("model", "LineModelCtc").for_inference(network, dataset.shapes)
    return model.save(path, model="LineModelCtc", network="line_lstm_ctc", network_args=NETWORK_ARGS, model_args={})


def real_lines(mirror: Path, dataset: IamOnDbDataset, count: int) -> list[np.ndarray | Path]:
    """The scans of ``iam-sample`` (files) and the first ``count`` IAM-OnDB test lines (arrays)."""
    scans: list[np.ndarray | Path] = sorted((mirror / "iam-sample" / "lines").rglob("*.png"))
    return scans + list(dataset.test.images[:count])


def seconds(function: Callable[..., object], *args: object) -> float:
    """The wall time of ``function(*args)``."""
    start = time.perf_counter()
    function(*args)
    return time.perf_counter() - start


def forward(predictor: Predictor, batch: torch.Tensor) -> None:
    """The network's forward pass alone, on a preprocessed ``batch``."""
    with torch.inference_mode():
        predictor.model.network(batch)


def turns(index: int) -> tuple[str, ...]:
    """The runtimes in the order they take turn ``index``."""
    return RUNTIMES if index % 2 == 0 else RUNTIMES[::-1]


def compare_readings(bundle: Path, lines: list) -> str:
    """How many lines read alike through both runtimes, per decoder (and the largest confidence difference)."""
    report = []
    for decoder in ("greedy", "beam"):
        torch_read, onnx_read = (load_predictor(bundle, model_args={"decoder": decoder}, runtime=runtime)
                                 .predict_batch(lines) for runtime in RUNTIMES)
        same = sum(a[0] == b[0] for a, b in zip(torch_read, onnx_read))
        largest = max(abs(a[1] - b[1]) for a, b in zip(torch_read, onnx_read))
        report.append(f"{decoder}: {same}/{len(lines)} identical (confidences within {largest:.1g})")
    return "; ".join(report)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bundle", type=Path, help="a saved line_lstm_ctc bundle (default: a fresh one)")
    parser.add_argument("--ondb-lines", type=int, default=512, help="IAM-OnDB test lines read (512)")
    parser.add_argument("--batch", type=int, default=32, help="lines per predict_batch (32)")
    parser.add_argument("--latency-lines", type=int, default=100, help="lines read one at a time per round (100)")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    mirror = data_mirror()
    if mirror is None:
        parser.error("set TEXTREC_DATA_MIRROR to the data mirror (for iam-sample and IAM-OnDB)")
    torch.set_num_threads(args.threads)
    dataset = IamOnDbDataset()
    dataset.prepare()
    lines = real_lines(Path(mirror), dataset, args.ondb_lines)
    with tempfile.TemporaryDirectory() as folder:
        bundle = Path(folder) / "model"
        if args.bundle is None:
            fresh_bundle(dataset, bundle)
        else:
            shutil.copytree(args.bundle, bundle)
        start = time.perf_counter()
        exported = export_onnx(bundle)
        export_seconds = time.perf_counter() - start
        readings = compare_readings(bundle, lines)
        predictors = {runtime: load_predictor(bundle, model_args={"decoder": "greedy"}, runtime=runtime)
                      for runtime in RUNTIMES}
        prepared = predictors["torch"]
        batches = [prepared.collate([prepared.preprocess(line) for line in lines[start : start + args.batch]])
                   for start in range(0, len(lines), args.batch)]
        parameters = sum(p.numel() for p in prepared.model.network.parameters())
        line_batches = [lines[start : start + args.batch] for start in range(0, len(lines), args.batch)]
        throughput: dict[str, list[float]] = {runtime: [] for runtime in RUNTIMES}
        forward_throughput: dict[str, list[float]] = {runtime: [] for runtime in RUNTIMES}
        latency: dict[str, list[float]] = {runtime: [] for runtime in RUNTIMES}
        for predictor in predictors.values():  # warm-up
            predictor.predict_batch(line_batches[0])
            predictor.predict(lines[0])
        for round_number in range(args.rounds):
            spent = {runtime: 0.0 for runtime in RUNTIMES}
            spent_forward = {runtime: 0.0 for runtime in RUNTIMES}
            for index, (line_batch, batch) in enumerate(zip(line_batches, batches)):
                for runtime in turns(round_number + index):
                    spent[runtime] += seconds(predictors[runtime].predict_batch, line_batch)
                    spent_forward[runtime] += seconds(forward, predictors[runtime], batch)
            for index, line in enumerate(lines[: args.latency_lines]):
                for runtime in turns(round_number + index):
                    latency[runtime].append(seconds(predictors[runtime].predict, line))
            for runtime in RUNTIMES:
                throughput[runtime].append(len(lines) / spent[runtime])
                forward_throughput[runtime].append(len(lines) / spent_forward[runtime])
            print(f"round {round_number + 1}: " + ", ".join(
                f"{runtime} {throughput[runtime][-1]:.1f} lines/s" for runtime in RUNTIMES), flush=True)
    widths = [prepared.preprocess(line).shape[1] for line in lines]
    print(f"line_lstm_ctc, {parameters / 1e6:.2f} M parameters ({'fresh' if args.bundle is None else args.bundle}); "
          f"{len(lines)} real lines ({len(lines) - args.ondb_lines} IAM scans, {args.ondb_lines} IAM-OnDB test lines), "
          f"64 pixels high, {min(widths)}-{max(widths)} wide (median {statistics.median(widths):.0f}); "
          f"{args.threads} threads, {args.rounds} rounds; torch {torch.__version__}, "
          f"onnxruntime {exported.meta['onnxruntime']}, opset {exported.meta['opset']}")
    print(f"export: {export_seconds:.1f} s (verified, largest difference "
          f"{exported.meta['verified']['max_abs_difference']:.1g}); readings: {readings}")
    print("| measure | torch (eager) | ONNX Runtime | speed-up of ONNX Runtime |")
    print("|---|---|---|---|")
    rows = [  # (measure, value per runtime, whether more is faster)
        (f"lines/s, batches of {args.batch} (median of rounds)",
         {r: statistics.median(throughput[r]) for r in RUNTIMES}, True),
        (f"lines/s, network forward alone, batches of {args.batch}",
         {r: statistics.median(forward_throughput[r]) for r in RUNTIMES}, True),
        ("one-line latency, median (ms)", {r: 1e3 * statistics.median(latency[r]) for r in RUNTIMES}, False),
        ("one-line latency, p99 (ms)", {r: 1e3 * float(np.percentile(latency[r], 99)) for r in RUNTIMES}, False),
    ]
    for name, values, more_is_faster in rows:
        speedup = values["onnx"] / values["torch"] if more_is_faster else values["torch"] / values["onnx"]
        print(f"| {name} | {values['torch']:.1f} | {values['onnx']:.1f} | {speedup:.2f}x |")


if __name__ == "__main__":
    main()
