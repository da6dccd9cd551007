"""Training throughput of textrec's training path versus a bare PyTorch loop, in one process.

Both train the same network (built by the registered factory, same initial weights), on the
same in-memory data, with the same batch size, optimizer and torch threads. textrec's side is
``CharacterModel.fit`` exactly as ``textrec-run`` calls it (progress bar on, validation after
each epoch on a one-batch split); the bare side is the plain loop a person would write. Rounds
alternate between the two and the median ratio of samples per second is reported.

    python benchmarks/bench_training_throughput.py            # real EMNIST via TEXTREC_DATA_MIRROR
    python benchmarks/bench_training_throughput.py --dataset synthetic
"""

from __future__ import annotations

import argparse
import copy
import statistics
import time

import torch
import torch.nn.functional as F

from textrec_core.config import TrainArgs
from textrec_core.plugins import components
from textrec_core.services.splits import TensorSplit


def bare_loop(network: torch.nn.Module, split: TensorSplit, batch_size: int, epochs: int, lr: float) -> float:
    """Samples per second of a hand-written loop: shuffle, slice, scale, forward, backward, step."""
    optimizer = torch.optim.Adam(network.parameters(), lr=lr)
    generator = torch.Generator().manual_seed(0)
    images, labels = split.images, split.labels
    network.train()
    start = time.perf_counter()
    for _ in range(epochs):
        order = torch.randperm(len(labels), generator=generator)
        for i in range(0, len(labels), batch_size):
            idx = order[i : i + batch_size]
            loss = F.cross_entropy(network(images[idx].float().div_(255.0)), labels[idx])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
    return epochs * len(labels) / (time.perf_counter() - start)


class OneBatchValidation:
    """The dataset's first ``samples`` training samples, validation cut to one batch (~free)."""

    def __init__(self, dataset, batch_size: int, samples: int) -> None:
        self.shapes, self.test = dataset.shapes, dataset.test
        self.train = dataset.train.subset(torch.arange(min(samples, len(dataset.train))))
        self.val = dataset.val.subset(torch.arange(min(batch_size, len(dataset.val))))


def textrec_fit(model_cls, dataset, network: torch.nn.Module, batch_size: int, epochs: int, lr: float) -> float:
    model = model_cls(dataset, network)
    args = TrainArgs(batch_size=batch_size, epochs=epochs, learning_rate=lr, patience=0, precision="float32")
    start = time.perf_counter()
    model.fit(args, progress=True)
    return epochs * len(dataset.train) / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dataset", default="emnist", help="registered dataset name (default: emnist)")
    parser.add_argument("--networks", default="mlp,lenet")
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--samples", type=int, default=30000, help="training samples used per epoch")
    parser.add_argument("--epochs", type=int, default=1, help="epochs per timed run")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    table = components()
    dataset = table.get("dataset", args.dataset)()
    dataset.prepare()
    data = OneBatchValidation(dataset, args.batch_size, args.samples)
    model_cls = table.get("model", "CharacterModel")
    print(f"dataset {args.dataset}: {len(data.train)} samples/epoch, batch {args.batch_size}, "
          f"{torch.get_num_threads()} threads, {args.rounds} rounds of {args.epochs} epoch(s)")
    for name in args.networks.split(","):
        torch.manual_seed(0)
        initial = table.get("network", name)(data.shapes)
        ratios, fast, bare = [], [], []
        for _ in range(args.rounds):
            b = bare_loop(copy.deepcopy(initial), data.train, args.batch_size, args.epochs, 1e-3)
            t = textrec_fit(model_cls, data, copy.deepcopy(initial), args.batch_size, args.epochs, 1e-3)
            bare.append(b)
            fast.append(t)
            ratios.append(t / b)
        print(f"{name:6s} bare {statistics.median(bare):9.0f} samples/s  textrec {statistics.median(fast):9.0f} "
              f"samples/s  ratio {statistics.median(ratios):.3f}  (rounds: {', '.join(f'{r:.3f}' for r in ratios)})")


if __name__ == "__main__":
    main()
