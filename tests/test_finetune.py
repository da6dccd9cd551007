"""``train_args.init_from``: a network started from a saved bundle, the tensors it declares
class-indexed remapped token by token to a new alphabet (lazy modules too), every problem with the
bundle a config error before any data work, and what a run started from (the bundle, the
dataset's version) recorded in the run folder and the new bundle."""

from __future__ import annotations

import copy
import json
import logging
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch
from torch import nn

from textrec_core import CharacterMapping, DataShapes
from textrec_core.bundle import META_FILE, WEIGHTS_FILE, Bundle
from textrec_core.cli import main
from textrec_core.errors import ConfigError
from textrec_core.experiment import check_experiment, dataset_version
from textrec_core.finetune import AlphabetChange, load_remapped
from textrec_core.reports import PROVENANCE_FILE
from textrec_core.services.download import sha256_file


def shapes_of(tokens: str) -> DataShapes:
    """The shapes of 12 x 12 single-character images labelled with the characters of ``tokens``."""
    return DataShapes((12, 12), (), CharacterMapping(tokens))


# --- remapping the weights -----------------------------------------------------------------------


def test_class_indexed_rows_follow_their_tokens_and_new_tokens_keep_their_fresh_rows(toy):
    old, new = shapes_of("|-x"), shapes_of("yx-z")  # keeps x and - at other indices, adds y and z, drops |
    torch.manual_seed(0)
    source = toy.toy_mlp(old, hidden=5).state_dict()
    torch.manual_seed(1)
    network = toy.toy_mlp(new, hidden=5)
    fresh = copy.deepcopy(network.state_dict())
    change = load_remapped(network, source, old.mapping, new)
    assert change == AlphabetChange(kept=("x", "-"), added=("y", "z"), dropped=("|",))
    assert str(change) == "kept 2 characters, added ['y', 'z'], dropped ['|']"
    state = network.state_dict()
    for key in ("3.weight", "3.bias"):  # the output layer, declared class-indexed
        for index, token in enumerate(new.mapping.tokens):
            expected = source[key][old.mapping.index(token)] if token in old.mapping else fresh[key][index]
            assert torch.equal(state[key][index], expected), (key, token)
        assert not torch.equal(fresh[key][0], source[key][0])  # fresh and saved rows do differ
    for key in ("1.weight", "1.bias"):
        assert torch.equal(state[key], source[key])


def test_only_the_declared_dimension_is_remapped_when_sizes_alone_are_ambiguous(toy):
    """Two alphabets of one length in another order, and a hidden size equal to the number of classes."""
    old, new = shapes_of("|-"), shapes_of("-|")
    source = toy.toy_mlp(old, hidden=2).state_dict()
    network = toy.toy_mlp(new, hidden=2)
    assert load_remapped(network, source, old.mapping, new) == AlphabetChange(("-", "|"), (), ())
    state = network.state_dict()
    assert torch.equal(state["3.weight"], source["3.weight"].flip(0))  # rows swapped, columns (hidden) not
    assert torch.equal(state["3.bias"], source["3.bias"].flip(0))
    assert torch.equal(state["1.weight"], source["1.weight"])  # 2 hidden units, like the classes: untouched


def plain_mlp(shapes: DataShapes) -> nn.Module:
    """A network that declares no class-indexed tensors."""
    return nn.Sequential(nn.Flatten(), nn.Linear(144, 4), nn.ReLU(), nn.Linear(4, shapes.num_classes))


def test_a_network_that_declares_nothing_starts_only_from_its_own_alphabet():
    stripes = shapes_of("|-")
    source = plain_mlp(stripes).state_dict()
    same = plain_mlp(stripes)
    assert load_remapped(same, source, stripes.mapping, stripes) == AlphabetChange(("|", "-"), (), ())
    assert all(torch.equal(same.state_dict()[key], value) for key, value in source.items())
    with pytest.raises(ConfigError, match=r"^train_args.init_from: the bundle's alphabet is not the dataset's \(kept 1 "
                                          r"characters, added \['\+'\], dropped \['\|'\]\), and Sequential declares no "
                                          r"tensors indexed by the alphabet \(class_indexed"):
        load_remapped(plain_mlp(shapes_of("+-")), source, stripes.mapping, shapes_of("+-"))


def test_every_other_mismatch_names_the_parameter_and_both_shapes(toy):
    stripes, crosses = shapes_of("|-"), shapes_of("+-")
    source = toy.toy_mlp(stripes, hidden=5).state_dict()
    with pytest.raises(ConfigError, match=r"parameter 1\.weight: the bundle's shape \(5, 144\) differs from the "
                                          r"network's \(4, 144\)"):
        load_remapped(toy.toy_mlp(crosses, hidden=4), source, stripes.mapping, crosses)
    narrow = {**source, "3.weight": torch.zeros(2, 7)}
    with pytest.raises(ConfigError, match=r"parameter 3\.weight: the bundle's shape \(2, 7\) does not fit the "
                                          r"network's \(2, 5\) \(dimension 0 indexed by the alphabet"):
        load_remapped(toy.toy_mlp(crosses, hidden=5), narrow, stripes.mapping, crosses)
    partial = {key: value for key, value in source.items() if key != "3.bias"}
    with pytest.raises(ConfigError, match=r"the bundle's weights do not fit ToyMlp: the bundle lacks 3\.bias"):
        load_remapped(toy.toy_mlp(crosses, hidden=5), partial, stripes.mapping, crosses)


def misdeclared(shapes: DataShapes, declared: dict[str, int]) -> nn.Module:
    """``plain_mlp`` declaring ``declared`` as its class-indexed tensors."""
    return type("Misdeclared", (nn.Sequential,), {"class_indexed": declared})(*plain_mlp(shapes))


def test_declarations_that_do_not_fit_the_network_are_its_bug():
    stripes, crosses = shapes_of("|-"), shapes_of("+-")
    source = plain_mlp(stripes).state_dict()
    with pytest.raises(ValueError, match=r"Misdeclared declares class-indexed tensors it does not have: 9\.bias"):
        load_remapped(misdeclared(crosses, {"3.weight": 0, "9.bias": 0}), source, stripes.mapping, crosses)
    with pytest.raises(ValueError, match=r"declares 3\.weight indexed by the alphabet along dimension 1, but its "
                                         r"shape \(2, 4\) has not the alphabet's 2 tokens there"):
        load_remapped(misdeclared(crosses, {"3.weight": 1}), source, stripes.mapping, crosses)


class LazyNet(nn.Module):
    """Lazy layers throughout (their input sizes are inferred), the class-indexed output layer too."""

    class_indexed = {"head.weight": 0, "head.bias": 0}

    def __init__(self, shapes: DataShapes) -> None:
        super().__init__()
        self.body = nn.Sequential(nn.Flatten(), nn.LazyLinear(6), nn.ReLU())
        self.head = nn.LazyLinear(shapes.num_classes)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.head(self.body(images))


def test_lazy_modules_take_the_bundles_values_and_new_tokens_a_fresh_initialisation():
    stripes, crosses = shapes_of("|-"), shapes_of("+-")
    trained = LazyNet(stripes)
    trained(torch.zeros(1, 12, 12))
    source = trained.state_dict()
    same = LazyNet(stripes)  # uninitialised: loading creates every tensor with the bundle's values
    load_remapped(same, source, stripes.mapping, stripes)
    assert all(torch.equal(same.state_dict()[key], value) for key, value in source.items())

    torch.manual_seed(3)
    reference = LazyNet(crosses)
    reference(torch.zeros(1, 12, 12))  # what a dry run initialises
    torch.manual_seed(3)
    network = LazyNet(crosses)
    load_remapped(network, source, stripes.mapping, crosses)
    state = network.state_dict()
    for key in ("head.weight", "head.bias"):
        assert torch.equal(state[key][0], reference.state_dict()[key][0])  # '+': fresh
        assert torch.equal(state[key][1], source[key][1])  # '-': the bundle's
    assert torch.equal(state["body.1.weight"], source["body.1.weight"])
    assert network(torch.zeros(2, 12, 12)).shape == (2, 2)


# --- textrec-run --------------------------------------------------------------------------------


@pytest.fixture
def crosses(toy) -> type:
    """The toy ``Crosses`` dataset (``+`` and ``-``, version ``crosses v1``) registered for one test."""
    dataset = type("Crosses", (toy.Crosses,), {"prepared": [], "__doc__": toy.Crosses.__doc__})
    toy.plugin_of(lambda register: register.dataset(dataset, aliases=("crosses",)), "textrec-crosses")
    return dataset


@pytest.fixture
def base(toy, tmp_path) -> Path:
    """An untrained toy model on stripes (``|``, ``-``) with 8 hidden units, saved as a bundle."""
    dataset = toy.Stripes()
    torch.manual_seed(0)
    model = toy.ToyClassifier(dataset, toy.toy_mlp(dataset.shapes, hidden=8))
    return model.save(tmp_path / "base", model="ToyClassifier", network="toy_mlp", network_args={"hidden": 8},
                      model_args={"temperature": 1.0})


def fine_tuning(toy, init_from: Path | str, **fields) -> str:
    return toy.config(dataset="crosses", **fields, train_args={"epochs": 2, "batch_size": 32, "learning_rate": 0.01,
                                                               "init_from": str(init_from)})


def test_a_trained_model_fine_tuned_on_another_alphabet_records_where_it_started(toy, crosses, capsys, caplog,
                                                                                 tmp_path):
    caplog.set_level(logging.INFO, logger="textrec")
    assert main(["--save", "--nowandb", "--quiet", toy.config(network_args={"hidden": 8})]) == 0
    first = Bundle(capsys.readouterr().out.split("saved model bundle: ")[1].split("\n")[0])
    assert first.dataset_version is None and first.init_from is None
    assert json.loads((first.path / META_FILE).read_text())["dataset_version"] is None  # written, as null

    assert main(["--save", "--nowandb", "--quiet", fine_tuning(toy, first.path)]) == 0
    bundle = Bundle(capsys.readouterr().out.split("saved model bundle: ")[1].split("\n")[0])
    run = bundle.path.parent
    record = {"path": str(first.path.resolve()), "sha256": sha256_file(first.path / WEIGHTS_FILE)}
    assert bundle.mapping.to_list() == ["+", "-"]
    assert bundle.init_from == record and bundle.dataset_version == "crosses v1"
    meta = json.loads((bundle.path / META_FILE).read_text())
    assert meta["init_from"] == record and meta["dataset_version"] == "crosses v1"
    assert json.loads((run / PROVENANCE_FILE).read_text()) == {"dataset_version": "crosses v1", "init_from": record}
    recorded = json.loads((run / "config.json").read_text())
    assert recorded["network_args"] == {"hidden": 8}  # the bundle's: the config left them out
    assert recorded["train_args"]["init_from"] == str(first.path)
    assert f"init_from {first.path.resolve()}: kept 1 characters, added ['+'], dropped ['|']" in (
        run / "run.log").read_text()
    assert bundle.metrics["accuracy"] > 0.8  # chance is 0.5


def test_check_starts_the_network_from_the_bundle_reading_no_data(toy, crosses, base):
    built = check_experiment(fine_tuning(toy, base))
    assert built.resolved.network_args == {"hidden": 8}
    assert built.start.change == AlphabetChange(("-",), ("+",), ("|",))
    state, saved = built.model.network.state_dict(), Bundle(base).state_dict()
    assert torch.equal(state["3.weight"][1], saved["3.weight"][1])  # '-' is label 1 in both alphabets
    assert torch.equal(state["1.weight"], saved["1.weight"])
    assert crosses.prepared == []


def not_a_bundle(base: Path) -> Path:
    (base.parent / "empty").mkdir()
    return base.parent / "empty"


def of_another_network(base: Path) -> Path:
    meta = json.loads((base / META_FILE).read_text())
    (base / META_FILE).write_text(json.dumps({**meta, "network": "lenet"}))
    return base


def with_damaged_weights(base: Path) -> Path:
    (base / WEIGHTS_FILE).write_bytes(b"not weights")
    return base


def with_other_hidden_units(base: Path) -> Path:
    meta = json.loads((base / META_FILE).read_text())
    (base / META_FILE).write_text(json.dumps({**meta, "network_args": {"hidden": 5}}))
    return base


@pytest.mark.parametrize(("place", "fields", "message"), [
    (lambda base: base.parent / "missing", {}, "train_args.init_from: 'BASE/../missing' does not exist"),
    (not_a_bundle, {}, "train_args.init_from: 'BASE/../empty' is not a readable model bundle: BASE/../empty is not "
                       "a textrec model bundle (no bundle.json)"),
    (of_another_network, {}, "train_args.init_from: 'BASE' holds a 'lenet' network, not the config's 'toy_mlp': a "
                             "model is fine-tuned with the network it was trained with"),
    (lambda base: base, {"network_args": {"hidden": 4}},
     "network_args: the init_from bundle 'BASE' was built with other values: hidden 4 (the bundle's: 8); leave them "
     "out to take the bundle's"),
    (with_damaged_weights, {}, "train_args.init_from: 'BASE' is not a readable model bundle: cannot read weights"),
    (with_other_hidden_units, {}, "train_args.init_from: parameter 1.weight: the bundle's shape (8, 144) differs "
                                  "from the network's (5, 144)"),
])
@pytest.mark.parametrize("check", [False, True], ids=["run", "check"])
def test_a_bad_init_from_exits_2_naming_the_problem_before_any_data_work(toy, crosses, base, capsys, tmp_path, place,
                                                                         fields, message, check):
    init_from = place(base)
    assert main(["--nowandb", *(["--check"] if check else []), fine_tuning(toy, init_from, **fields)]) == 2
    err = capsys.readouterr().err
    assert f"textrec-run: error: {message}".replace("BASE/..", str(base.parent)).replace("BASE", str(base)) in err
    assert "Traceback" not in err and err.count("\n") == 1
    assert crosses.prepared == []
    assert not (tmp_path / "runs").exists()


def test_an_empty_init_from_is_refused(toy, crosses, capsys):
    assert main(["--nowandb", fine_tuning(toy, " ")]) == 2
    assert "train_args.init_from: must be the path of a model bundle, got ' '" in capsys.readouterr().err


# --- the dataset's version -----------------------------------------------------------------------


def test_a_dataset_version_is_a_string_or_none():
    assert dataset_version(SimpleNamespace()) is None
    assert dataset_version(SimpleNamespace(version=None)) is None
    version = "receipts v3 sha256:0123456789ab"
    assert dataset_version(SimpleNamespace(version=version)) == version
    with pytest.raises(TypeError, match=r"SimpleNamespace.version must be a string or None, got int \(3\)"):
        dataset_version(SimpleNamespace(version=3))


def test_a_run_resumed_on_another_dataset_version_records_it_and_warns(toy, crosses, capsys, caplog, monkeypatch):
    caplog.set_level(logging.INFO, logger="textrec")
    assert main(["--save", "--nowandb", "--quiet", toy.config(dataset="crosses")]) == 0
    run = Bundle(capsys.readouterr().out.split("saved model bundle: ")[1].split("\n")[0]).path.parent
    assert Bundle(run / "model").dataset_version == "crosses v1"

    def prepare_v2(self):
        toy.Crosses.prepare(self)
        self.version = "crosses v2"

    monkeypatch.setattr(crosses, "prepare", prepare_v2)
    assert main(["--save", "--nowandb", "--quiet", "--resume", str(run)]) == 0  # ended: tested and saved again
    assert Bundle(run / "model").dataset_version == "crosses v2"  # the version its test metrics are of
    assert json.loads((run / PROVENANCE_FILE).read_text())["dataset_version"] == "crosses v1"  # what it started on
    assert "the dataset is version crosses v2 now, but the run started on crosses v1" in (run / "run.log").read_text()
