"""Weights & Biases tracking without an account: offline unless an API key is configured.

The mode is, in order: ``disabled`` with ``--nowandb``; ``$WANDB_MODE`` when set; ``online``
when an API key is configured (``$WANDB_API_KEY`` or a ``api.wandb.ai`` entry in ``~/.netrc``);
``offline`` otherwise, which writes the run under the run folder for a later ``wandb sync``.
"""

from __future__ import annotations

import logging
import netrc
import os
from pathlib import Path
from typing import Any

log = logging.getLogger("textrec")


def _api_key_configured() -> bool:
    if os.environ.get("WANDB_API_KEY"):
        return True
    try:
        return netrc.netrc().authenticators("api.wandb.ai") is not None
    except (OSError, netrc.NetrcParseError):
        return False


def wandb_mode(disabled: bool) -> str:
    """The W&B mode to use (see module docstring)."""
    if disabled:
        return "disabled"
    if os.environ.get("WANDB_MODE"):
        return os.environ["WANDB_MODE"]
    return "online" if _api_key_configured() else "offline"


class WandbTracker:
    """Logs the config, per-epoch metrics, test metrics and a table of sample predictions."""

    def __init__(self, config: dict[str, Any], run_dir: Path, mode: str, name: str) -> None:
        import wandb

        self._wandb = wandb
        self.mode = mode
        self.run = wandb.init(
            project=os.environ.get("WANDB_PROJECT", "textrec"), config=config, dir=str(run_dir),
            mode=mode, name=name, reinit="finish_previous",
        )

    def on_epoch_end(self, epoch: int, metrics: dict[str, float]) -> None:
        self.run.log({"epoch": epoch, **metrics})

    def log_predictions(self, rows: list[dict[str, Any]]) -> None:
        table = self._wandb.Table(columns=["image", "truth", "pred", "conf"])
        for row in rows:
            table.add_data(self._wandb.Image(row["image"]), row["truth"], row["pred"], row["conf"])
        self.run.log({"predictions": table})

    def finish(self, test_metrics: dict[str, float]) -> str | None:
        """Close the run; return the ``wandb sync`` command for an offline run."""
        self.run.summary.update({f"test_{k}": v for k, v in test_metrics.items()})
        run_path = Path(self.run.dir).parent
        self.run.finish()
        return f"wandb sync {run_path}" if self.mode == "offline" else None
