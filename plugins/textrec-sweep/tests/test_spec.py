"""Sweep files in W&B's format: what each parameter spec becomes, the base config, and clear errors."""

from __future__ import annotations

import math

import optuna
import pytest

from textrec_core.errors import ConfigError
from textrec_sweep.spec import Hyperband, read_sweep

COMMAND = "command:\n  - ${env}\n  - textrec-run\n  - --nowandb\n  - base.json\n  - ${args_no_hyphens}\n"


def write(tmp_path, text: str, command: str = COMMAND):
    path = tmp_path / "sweep.yaml"
    path.write_text(text + command)
    return path


def test_each_parameter_spec_becomes_its_distribution(tmp_path):
    sweep = read_sweep(write(tmp_path, """
method: bayes
metric: {name: val_cer, goal: minimize}
parameters:
  train_args.batch_size: {value: 64}
  network_args.lstm_size: {values: [128, 192]}
  train_args.learning_rate: {distribution: log_uniform_values, min: 0.0001, max: 0.01}
  train_args.max_grad_norm: {min: 0.5, max: 2.0}
  network_args.lstm_layers: {min: 1, max: 3}
  network_args.dropout: {distribution: q_uniform, min: 0.0, max: 0.5, q: 0.1}
  train_args.weight: {distribution: log_uniform, min: 0, max: 1}
early_terminate: {type: hyperband, min_iter: 2, eta: 3}
run_cap: 8
name: ignored
"""))
    d = optuna.distributions
    assert sweep.parameters == {
        "train_args.batch_size": d.CategoricalDistribution([64]),
        "network_args.lstm_size": d.CategoricalDistribution([128, 192]),
        "train_args.learning_rate": d.FloatDistribution(0.0001, 0.01, log=True),
        "train_args.max_grad_norm": d.FloatDistribution(0.5, 2.0),
        "network_args.lstm_layers": d.IntDistribution(1, 3),
        "network_args.dropout": d.FloatDistribution(0.0, 0.5, step=0.1),
        "train_args.weight": d.FloatDistribution(1.0, math.e, log=True),
    }
    assert (sweep.method, sweep.metric, sweep.goal, sweep.run_cap) == ("bayes", "val_cer", "minimize", 8)
    assert sweep.hyperband == Hyperband(2, 3)
    assert sweep.base == str(tmp_path / "base.json")  # relative to the sweep file


def test_the_base_config_may_be_inline_or_given(tmp_path):
    inline = COMMAND.replace("base.json", "'{\"dataset\": \"x\"}'")
    text = "method: grid\nmetric: {name: val_loss}\nparameters:\n  train_args.epochs: {values: [1, 2]}\n"
    assert read_sweep(write(tmp_path, text, inline)).base == '{"dataset": "x"}'
    assert read_sweep(write(tmp_path, text, ""), base="other.json").base == "other.json"
    assert read_sweep(write(tmp_path, text)).grid == {"train_args.epochs": [1, 2]}


@pytest.mark.parametrize(("text", "command", "where", "message"), [
    ("method: hill\nmetric: {name: m}\nparameters: {a: {value: 1}}\n", COMMAND, "method", "grid, random, bayes"),
    ("method: grid\nparameters: {a: {value: 1}}\n", COMMAND, "metric", "name"),
    ("method: grid\nmetric: {name: m, goal: best}\nparameters: {a: {value: 1}}\n", COMMAND, "metric.goal", "best"),
    ("method: grid\nmetric: {name: m}\nparameters: {}\n", COMMAND, "parameters", "one or more"),
    ("method: grid\nmetric: {name: m}\nparameters: {a: {min: 1, max: 3}}\n", COMMAND, "parameters.a",
     "grid sweep needs value or values"),
    ("method: random\nmetric: {name: m}\nparameters: {a: {min: 3, max: 1}}\n", COMMAND, "parameters.a", "min < max"),
    ("method: random\nmetric: {name: m}\nparameters: {a: {distribution: beta, min: 0, max: 1}}\n", COMMAND,
     "parameters.a.distribution", "beta"),
    ("method: random\nmetric: {name: m}\nparameters: {a: {values: []}}\n", COMMAND, "parameters.a.values",
     "non-empty"),
    ("method: random\nmetric: {name: m}\nparameters: {a: {value: 1}}\nrun_cap: 0\n", COMMAND, "run_cap", "positive"),
    ("method: random\nmetric: {name: m}\nparameters: {a: {value: 1}}\nearly_terminate: {type: envelope}\n", COMMAND,
     "early_terminate", "hyperband"),
    ("method: random\nmetric: {name: m}\nparameters: {a: {value: 1}}\nsweeps: 2\n", COMMAND, "sweeps", "unknown key"),
    ("method: random\nmetric: {name: m}\nparameters: {a: {value: 1}}\n", "command: [python, train.py]\n", "command",
     "must run textrec-run"),
    ("method: random\nmetric: {name: m}\nparameters: {a: {value: 1}}\n", "command: [textrec-run, a.json, b.json]\n",
     "command", "names 2 configs"),
    ("- not a mapping\n", "", "SWEEP", "a sweep file holds a mapping"),
    ("method: [unclosed\n", "", "SWEEP", "not valid YAML"),
])
def test_bad_sweep_files_are_config_errors_naming_the_key(tmp_path, text, command, where, message):
    with pytest.raises(ConfigError) as error:
        read_sweep(write(tmp_path, text, command))
    assert str(error.value).startswith(f"{where}: ") and message in str(error.value)


def test_a_missing_sweep_file_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="SWEEP: cannot read"):
        read_sweep(tmp_path / "none.yaml")
