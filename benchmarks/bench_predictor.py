"""LinePredictor latency and batch throughput versus the bare network forward pass, in one process.

A bundle of the chosen line model is saved (``--bundle`` to use a trained one instead; latency
does not depend on the weights), then, on the same line images (28 x ``--width``, uint8, dark ink
on light paper as a person would supply them):

- ``bare``: ``network(batch)`` on an already preprocessed float tensor, nothing else;
- ``predictor``: ``predictor.predict(image)``: polarity, scaling, padding, forward, decoding;
- ``batch``: ``predictor.predict_batch(images)`` per image, versus one ``predict`` per image.

    python benchmarks/bench_predictor.py                        # line_lstm_ctc + LineModelCtc
    python benchmarks/bench_predictor.py --network line_attention --model LineModelAttention
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from textrec_core import load_predictor
from textrec_core.mapping import LINE_MAPPING
from textrec_core.plugins import components
from textrec_core.protocols import DataShapes


def median_seconds(fn, repeats: int) -> float:
    fn()  # warm-up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def save_untrained(network_name: str, model_name: str, max_length: int, directory: Path) -> Path:
    shapes = DataShapes((28, 28 * max_length), (max_length,), LINE_MAPPING)
    table = components()
    model = table.get("model", model_name).for_inference(table.get("network", network_name)(shapes), shapes)
    return model.save(directory / "model", model=model_name, network=network_name, network_args={}, model_args={})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--network", default="line_lstm_ctc")
    parser.add_argument("--model", default="LineModelCtc")
    parser.add_argument("--bundle", type=Path, help="a saved bundle to serve instead of an untrained one")
    parser.add_argument("--max-length", type=int, default=34)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    with tempfile.TemporaryDirectory() as tmp:
        bundle = args.bundle or save_untrained(args.network, args.model, args.max_length, Path(tmp))
        predictor = load_predictor(bundle)
        height, width = predictor.input_shape
        rng = np.random.default_rng(0)
        images = [255 - (rng.random((height, width)) < 0.15).astype(np.uint8) * 200 for _ in range(args.batch)]
        prepared = torch.from_numpy(predictor.preprocess(images[0])).unsqueeze(0)
        network = predictor.model.network

        def bare() -> None:
            with torch.inference_mode():
                network(prepared)

        single_bare = median_seconds(bare, args.repeats)
        single = median_seconds(lambda: predictor.predict(images[0]), args.repeats)
        one_by_one = median_seconds(lambda: [predictor.predict(image) for image in images], max(3, args.repeats // 10))
        batched = median_seconds(lambda: predictor.predict_batch(images), max(3, args.repeats // 10))
    print(f"{args.model} + {args.network}, line {height}x{width}, {torch.get_num_threads()} threads, "
          f"median of {args.repeats} runs")
    print(f"one line:  bare forward {single_bare * 1e3:7.2f} ms   predictor {single * 1e3:7.2f} ms   "
          f"predictor / bare {single / single_bare:.3f}")
    print(f"{args.batch} lines: one by one {one_by_one / args.batch * 1e3:7.2f} ms/line   "
          f"batched {batched / args.batch * 1e3:7.2f} ms/line   speed-up {one_by_one / batched:.2f}x")


if __name__ == "__main__":
    main()
