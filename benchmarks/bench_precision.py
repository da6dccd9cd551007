"""Training step time in bfloat16 autocast versus float32, same process, same network and batch.

``precision: auto`` takes bfloat16 only where the device computes it natively; this measures
what that choice is worth, and what forcing bfloat16 costs where it is emulated. One batch of
real synthetic lines (``EmnistLinesDataset`` with the embedded characters and built-in text) is
trained on repeatedly; rounds alternate between the precisions and medians are reported.

    python benchmarks/bench_precision.py                                   # line_lstm_ctc, batch 64
    python benchmarks/bench_precision.py --network line_cnn_all_conv --model LineModel
    ONEDNN_MAX_CPU_ISA=AVX2 ATEN_CPU_CAPABILITY=avx2 python benchmarks/bench_precision.py   # as an AVX2-only CPU
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

from textrec_core.plugins import components
from textrec_core.training import native_bfloat16


def step_seconds(model, images: torch.Tensor, labels: torch.Tensor, dtype: torch.dtype | None, steps: int) -> float:
    """Mean seconds of one Adam training step (forward and loss under autocast ``dtype``, backward, update)."""
    optimizer = torch.optim.Adam(model.network.parameters(), lr=1e-4)
    model.network.train()
    start = time.perf_counter()
    for _ in range(steps):
        with torch.autocast("cpu", dtype=dtype or torch.bfloat16, enabled=dtype is not None):
            loss = model.training_loss(images, labels)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
    return (time.perf_counter() - start) / steps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--network", default="line_lstm_ctc")
    parser.add_argument("--model", default="LineModelCtc")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--max-length", type=int, default=34)
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    table = components()
    dataset = table.get("dataset", "EmnistLinesDataset")(
        max_length=args.max_length, num_train=args.batch_size, num_val=1, num_test=1,
        char_source="synthetic", text_source="builtin")
    dataset.prepare()
    images, labels = next(iter(dataset.train.batches(args.batch_size, generator=torch.Generator().manual_seed(0))))
    torch.manual_seed(0)
    model = table.get("model", args.model)(dataset, table.get("network", args.network)(dataset.shapes))
    step_seconds(model, images, labels, None, 1)  # warm-up
    step_seconds(model, images, labels, torch.bfloat16, 1)
    times: dict[str, list[float]] = {"float32": [], "bfloat16": []}
    for _ in range(args.rounds):
        times["float32"].append(step_seconds(model, images, labels, None, args.steps))
        times["bfloat16"].append(step_seconds(model, images, labels, torch.bfloat16, args.steps))
    f32, bf16 = statistics.median(times["float32"]), statistics.median(times["bfloat16"])
    print(f"{args.network} + {args.model}, batch {args.batch_size}, line width {images.shape[-1]}, "
          f"{torch.get_num_threads()} threads; CPU capability {torch.backends.cpu.get_cpu_capability()}, "
          f"native bfloat16: {native_bfloat16(torch.device('cpu'))}")
    print(f"step: float32 {f32:.3f} s, bfloat16 {bf16:.3f} s; bfloat16 / float32 = {bf16 / f32:.2f}")


if __name__ == "__main__":
    main()
