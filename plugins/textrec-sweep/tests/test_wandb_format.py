"""The documented sweep file is W&B's format: W&B's own sweep-config check accepts it, and the
arguments W&B's agent would pass (drawn by W&B's own sweep logic, written by its own formatter)
configure ``textrec-run`` as the parameters say."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import sweeps
import yaml
from wandb.sdk.launch.sweeps.utils import create_sweep_command_args

from textrec_core.config import with_overrides
from textrec_core.experiment import check_experiment
from textrec_sweep.spec import read_sweep

DOCS = Path(__file__).resolve().parents[3] / "docs" / "sweeps"
SWEEP = DOCS / "emnist-lines-lstm-ctc.yaml"


def test_wandbs_own_check_accepts_the_documented_sweep_and_refuses_a_bad_one():
    config = yaml.safe_load(SWEEP.read_text())
    assert sweeps.schema_violations_from_proposed_config(config) == []
    assert sweeps.schema_violations_from_proposed_config({**config, "method": "hill"})
    sweep = read_sweep(SWEEP)
    assert sweep.base == str(DOCS / "emnist-lines-base.json") and sweep.run_cap == 8


@pytest.mark.parametrize("seed", range(3))
def test_the_arguments_of_wandbs_agent_configure_textrec_run(seed):
    config = yaml.safe_load(SWEEP.read_text())
    proposed = sweeps.next_run(config, []).config  # W&B's random search draws a run's parameters
    arguments = create_sweep_command_args({"args": {**proposed, "train_args.prefetch": {"value": None}}})
    source = with_overrides(str(DOCS / "emnist-lines-base.json"), arguments["args_no_hyphens"])
    data = json.loads(source)
    assert data["network_args"]["lstm_size"] == proposed["network_args.lstm_size"]["value"]
    assert data["train_args"]["learning_rate"] == pytest.approx(proposed["train_args.learning_rate"]["value"])
    assert data["train_args"]["prefetch"] is None  # W&B writes None as None: read as a Python literal
    built = check_experiment(json.dumps({**data, "train_args": {**data["train_args"], "prefetch": 2}}))
    assert built.resolved.network_args["lstm_size"] == proposed["network_args.lstm_size"]["value"]
