"""A ``textrec-run`` process for tests/test_resume.py and tests/test_distributed.py: the core tests'
toy components registered, and ``dropping_toy``, which with ``TEXTREC_TEST_KILL_AT_STEP=N`` is
killed by SIGKILL at its ``N``-th training step (no cleanup, as a crash or an out-of-memory kill
would end it).

    python tests/resume_child.py [textrec-run arguments]
"""

from __future__ import annotations

import os
import signal
import sys
import types
from pathlib import Path
from typing import Any

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))

import conftest  # noqa: E402  (the toy components, from this folder)
from textrec_core import hookimpl  # noqa: E402
from textrec_core.cli import main  # noqa: E402
from textrec_core.plugins import get_host  # noqa: E402


def textrec_register_components(register: Any) -> None:
    register.dataset(conftest.Stripes, aliases=("stripes",))
    register.dataset(conftest.Crosses, aliases=("crosses",))
    register.network(conftest.toy_mlp)
    register.model(conftest.ToyClassifier, aliases=("toy",))
    register.model(DroppingToy, aliases=("dropping_toy",))
    register.predictor(conftest.ToyPredictor)


class DroppingToy(conftest.ToyClassifier):
    """The toy classifier with dropout on its inputs (so torch's global generator matters too),
    counting its training steps to die at the one ``TEXTREC_TEST_KILL_AT_STEP`` names."""

    steps = 0

    def training_loss(self, images, labels):
        DroppingToy.steps += 1
        if DroppingToy.steps == int(os.environ.get("TEXTREC_TEST_KILL_AT_STEP", "0")):
            os.kill(os.getpid(), signal.SIGKILL)
        dropped = images * (torch.rand_like(images) > 0.2)
        return self.loss(self.network(dropped), labels)


if __name__ == "__main__":
    get_host().register(types.SimpleNamespace(
        textrec_register_components=hookimpl(textrec_register_components)), name="textrec-toy", provider="textrec-toy")
    sys.exit(main(sys.argv[1:]))
