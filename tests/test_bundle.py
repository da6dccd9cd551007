"""The bundle format: version 2 written and read back, atomic writes, version 1 bundles, and
every way a bundle can be unreadable (each a ``BundleError`` saying what is wrong)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from textrec_core import DataShapes, load_predictor
from textrec_core.bundle import FORMAT, META_FILE, VERSION, WEIGHTS_FILE, Bundle, write_bundle
from textrec_core.errors import BundleError

META = {"model": "ToyClassifier", "network": "toy_mlp", "network_args": {"hidden": 5},
        "model_args": {"temperature": 2.0}}


@pytest.fixture
def model(toy):
    """An untrained ``ToyClassifier`` on 10 x 10 stripes (no data read)."""
    dataset = toy.Stripes(side=10)
    torch.manual_seed(0)
    return toy.ToyClassifier(dataset, toy.toy_mlp(dataset.shapes, hidden=5), temperature=2.0)


@pytest.fixture
def saved(model, tmp_path) -> Path:
    return model.save(tmp_path / "bundle", **META, config={"seed": 1}, metrics={"accuracy": 0.5})


def rewrite(bundle: Path, change) -> Path:
    """Edit ``bundle.json`` in place with ``change(meta)``."""
    meta = json.loads((bundle / META_FILE).read_text())
    change(meta)
    (bundle / META_FILE).write_text(json.dumps(meta))
    return bundle


def leftovers(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir())


def test_version_2_round_trip(toy, model, saved, tmp_path):
    assert saved == tmp_path / "bundle"
    assert leftovers(tmp_path) == ["bundle"] and leftovers(saved) == [META_FILE, WEIGHTS_FILE]
    meta = json.loads((saved / META_FILE).read_text())
    assert (meta["format"], meta["version"], VERSION) == (FORMAT, 2, 2)
    assert {k: meta[k] for k in META} == META
    assert meta["predictor"] == "ToyPredictor"
    assert meta["shapes"] == {"input_shape": [10, 10], "output_shape": [], "num_classes": 2, "ink_margin": None}
    assert meta["mapping"] == ["|", "-"]
    assert (meta["config"], meta["metrics"]) == ({"seed": 1}, {"accuracy": 0.5})

    bundle = Bundle(saved)
    assert bundle.shapes == DataShapes((10, 10), (), toy.mapping)
    assert bundle.mapping == toy.mapping and bundle.model_args == {"temperature": 2.0}
    assert bundle.metrics == {"accuracy": 0.5}
    network = bundle.build_network(toy.toy_mlp)
    assert not network.training
    original = model.network.state_dict()
    assert all(torch.equal(original[k], v) for k, v in network.state_dict().items())

    predictor = load_predictor(saved)
    assert predictor.model.temperature == 2.0
    images = torch.rand(4, 10, 10)
    served, direct = predictor.model.predict(images), model.predict(images)
    assert [t for t, _ in served] == [t for t, _ in direct]
    assert [c for _, c in served] == pytest.approx([c for _, c in direct])


def test_provenance_is_read_back_and_absent_means_none(model, saved, tmp_path):
    assert (Bundle(saved).dataset_version, Bundle(saved).init_from) == (None, None)  # as bundles saved before it
    origin = {"path": "/models/base", "sha256": "ab" * 32}
    recorded = model.save(tmp_path / "tuned", **META, dataset_version="receipts v3 sha256:0123456789ab",
                          init_from=origin)
    assert Bundle(recorded).dataset_version == "receipts v3 sha256:0123456789ab"
    assert Bundle(recorded).init_from == origin


def test_saving_again_replaces_the_bundle(toy, model, saved):
    with torch.no_grad():
        for parameter in model.network.parameters():
            parameter.add_(1.0)
    model.save(saved, **{**META, "model_args": {"temperature": 3.0}})
    assert Bundle(saved).model_args == {"temperature": 3.0} and "metrics" not in Bundle(saved).meta
    rebuilt = Bundle(saved).build_network(toy.toy_mlp).state_dict()
    assert all(torch.equal(rebuilt[k], v) for k, v in model.network.state_dict().items())


class Unprintable:
    """A metadata value that fails while the bundle is written (after the weights are)."""

    def __init__(self, error: BaseException) -> None:
        self.error = error

    def __str__(self) -> str:
        raise self.error


@pytest.mark.parametrize("error", [RuntimeError("disk trouble"), KeyboardInterrupt()])
def test_a_failed_write_leaves_no_partial_bundle(model, tmp_path, error):
    with pytest.raises(type(error)):
        model.save(tmp_path / "bundle", **META, config=Unprintable(error))
    assert leftovers(tmp_path) == []


def test_a_failed_write_keeps_the_bundle_it_would_replace(model, saved, tmp_path):
    before = {name: (saved / name).read_bytes() for name in (META_FILE, WEIGHTS_FILE)}
    with pytest.raises(RuntimeError, match="disk trouble"):
        model.save(saved, **META, config=Unprintable(RuntimeError("disk trouble")))
    assert leftovers(tmp_path) == ["bundle"]
    assert {name: (saved / name).read_bytes() for name in before} == before


def test_the_ink_framing_of_the_data_is_kept_and_absent_means_framed_as_a_whole(toy, model, tmp_path):
    model.shapes = DataShapes((10, 10), (), toy.mapping, ink_margin=0.0625)
    saved = model.save(tmp_path / "framed", **META)
    assert Bundle(saved).shapes.ink_margin == 0.0625
    rewrite(saved, lambda meta: meta["shapes"].pop("ink_margin"))  # as bundles written before it
    assert Bundle(saved).shapes.ink_margin is None


def test_version_1_takes_model_args_from_its_config(toy, saved):
    def to_version_1(meta):
        meta["version"] = 1
        del meta["model_args"]
        meta["config"] = {"model_args": {"temperature": 3.0}}

    rewrite(saved, to_version_1)
    assert Bundle(saved).model_args == {"temperature": 3.0}
    assert load_predictor(saved).model.temperature == 3.0


@pytest.mark.parametrize("config", [None, {"seed": 0}, {"model_args": "temperature=3"}])
def test_version_1_without_model_args_is_refused_not_decoded_with_defaults(saved, config):
    def to_version_1(meta):
        meta["version"] = 1
        del meta["model_args"]
        if config is None:
            del meta["config"]
        else:
            meta["config"] = config

    rewrite(saved, to_version_1)
    bundle = Bundle(saved)  # readable: its network and shapes are all there
    message = "records neither model_args nor a config with them"
    with pytest.raises(BundleError, match=message):
        _ = bundle.model_args
    with pytest.raises(BundleError, match=message):
        load_predictor(saved)


@pytest.mark.parametrize(("version", "shown"),
                         [(3, "3"), (0, "0"), ("2", "'2'"), (None, "None"), (True, "True"), (2.0, "2.0")])
def test_an_unknown_version_is_refused(saved, version, shown):
    rewrite(saved, lambda meta: meta.update(version=version))
    with pytest.raises(BundleError, match=f"has bundle version {shown}; this textrec reads versions 1, 2"):
        Bundle(saved)


@pytest.mark.parametrize(
    ("version", "removed", "named"),
    [
        (2, ["model_args"], "lacks model_args"),
        (2, ["shapes", "mapping"], "lacks shapes, mapping"),
        (2, ["predictor"], "lacks predictor"),
        (1, ["model_args", "network_args"], "lacks network_args"),
    ],
)
def test_missing_keys_are_named(saved, version, removed, named):
    def change(meta):
        meta["version"] = version
        for key in removed:
            del meta[key]

    rewrite(saved, change)
    with pytest.raises(BundleError, match=named):
        Bundle(saved)


@pytest.mark.parametrize(
    ("document", "message"),
    [
        (None, "is not a textrec model bundle"),
        ("{not json", "is not valid JSON"),
        ('{"format": "other", "version": 2}', "is not a textrec-bundle file"),
        ("[1, 2]", "is not a textrec-bundle file"),
    ],
)
def test_a_directory_that_is_not_a_bundle_is_refused(tmp_path, document, message):
    if document is not None:
        (tmp_path / META_FILE).write_text(document)
    with pytest.raises(BundleError, match=message):
        Bundle(tmp_path)


def test_corrupt_missing_and_foreign_weights_are_refused(toy, saved):
    bundle = Bundle(saved)
    (saved / WEIGHTS_FILE).write_bytes(b"\x00not a torch file" * 8)
    with pytest.raises(BundleError, match="cannot read weights"):
        bundle.build_network(toy.toy_mlp)
    torch.save({"weight": Unprintable(RuntimeError())}, saved / WEIGHTS_FILE)  # a pickle, not tensors
    with pytest.raises(BundleError, match="cannot read weights"):
        bundle.state_dict()
    (saved / WEIGHTS_FILE).unlink()
    with pytest.raises(BundleError, match=f"has no {WEIGHTS_FILE}"):
        load_predictor(saved)


def test_weights_that_do_not_fit_the_network_are_refused(toy, saved):
    rewrite(saved, lambda meta: meta.update(network_args={"hidden": 6}))
    with pytest.raises(BundleError, match="do not fit network 'toy_mlp'"):
        load_predictor(saved)


@pytest.mark.parametrize("missing", [["model_args"], ["model", "network"], ["network_args"]])
def test_save_without_what_decoding_needs_is_refused(model, tmp_path, missing):
    meta = {k: v for k, v in META.items() if k not in missing}
    with pytest.raises(BundleError, match=f"cannot save a bundle without {', '.join(missing)}"):
        model.save(tmp_path / "bundle", **meta)
    assert leftovers(tmp_path) == []


def test_write_bundle_refuses_incomplete_metadata(model, tmp_path):
    with pytest.raises(BundleError, match="bundle metadata lacks predictor, shapes, mapping"):
        write_bundle(tmp_path / "bundle", model.network, dict(META))
    assert leftovers(tmp_path) == []


def test_load_predictor_replaces_saved_model_arguments_when_asked(toy, saved):
    saved_args = Bundle(saved).model_args
    assert saved_args, "the toy bundle records its model arguments"
    (name, value), = list(saved_args.items())[:1]
    other = load_predictor(saved, model_args={name: value * 2})
    assert getattr(other.model, name) == value * 2
    assert getattr(load_predictor(saved).model, name) == value


def test_a_bundle_folder_is_readable_by_other_users_as_the_umask_allows(tmp_path):
    """A serving user other than the one who trained (a container's) must be able to read a bundle."""
    import os
    import stat

    from textrec_core.bundle import write_bundle

    meta = {"model": "m", "network": "n", "network_args": {}, "model_args": {}, "predictor": "p", "shapes": {},
            "mapping": []}
    umask = os.umask(0o022)
    os.umask(umask)
    path = write_bundle(tmp_path / "model", torch.nn.Linear(1, 1), meta)
    assert stat.S_IMODE(path.stat().st_mode) == 0o777 & ~umask
