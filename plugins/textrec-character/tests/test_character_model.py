"""``CharacterModel`` and ``CharacterPredictor`` on an in-memory dataset with a network built here.

Uses only the core and this plugin (its tox environment installs nothing else). The task is
easy on purpose: a bright block sits in one of four quadrants and the label ('0'-'3') says which.
"""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image
from torch import nn

from textrec_character import CharacterModel, CharacterPredictor
from textrec_character.predictor import frame_character
from textrec_core import EMNIST_MAPPING, Dataset, DataShapes, TensorSplit, hookimpl, load_predictor
from textrec_core.bundle import Bundle
from textrec_core.config import TrainArgs
from textrec_core.errors import BundleError, InputImageError


def small_net(shapes: DataShapes, *, hidden: int = 32) -> nn.Module:
    """A one-hidden-layer perceptron."""
    height, width = shapes.input_shape
    return nn.Sequential(
        nn.Flatten(), nn.Linear(height * width, hidden), nn.ReLU(), nn.Linear(hidden, shapes.num_classes),
    )


NETWORK = small_net.__name__


class SmallNetPlugin:
    """Registers :func:`small_net` so that bundles naming it can be rebuilt."""

    @staticmethod
    @hookimpl
    def textrec_register_components(register):
        register.network(small_net)


def quadrant_split(size: int, seed: int) -> TensorSplit:
    """Faint noise plus a bright 9x9 block, jittered, in the quadrant given by the label (0-3)."""
    rng = np.random.default_rng(seed)
    labels = rng.permutation(np.arange(size) % 4)
    images = rng.integers(0, 40, size=(size, 28, 28), dtype=np.uint8)
    for image, label in zip(images, labels):
        top = 2 + 14 * (label // 2) + rng.integers(0, 4)
        left = 2 + 14 * (label % 2) + rng.integers(0, 4)
        image[top : top + 9, left : left + 9] = 255
    return TensorSplit(torch.from_numpy(images), torch.from_numpy(labels))


class QuadrantDataset:
    """An in-memory dataset satisfying the Dataset protocol, over the EMNIST alphabet."""

    shapes = DataShapes((28, 28), (), EMNIST_MAPPING)

    def __init__(self, sizes: tuple[int, int, int] = (512, 128, 128)) -> None:
        self.sizes = sizes
        self.splits: dict[str, TensorSplit] = {}

    def prepare(self) -> None:
        for seed, (name, size) in enumerate(zip(("train", "val", "test"), self.sizes)):
            self.splits[name] = quadrant_split(size, seed)

    @property
    def train(self) -> TensorSplit:
        return self.splits["train"]

    @property
    def val(self) -> TensorSplit:
        return self.splits["val"]

    @property
    def test(self) -> TensorSplit:
        return self.splits["test"]


def untrained_model() -> CharacterModel:
    torch.manual_seed(0)
    dataset = QuadrantDataset()
    dataset.prepare()
    return CharacterModel(dataset, small_net(dataset.shapes))


@pytest.fixture(scope="module")
def trained():
    """A model fitted on the quadrant task, and its history (one thread: the machine is shared)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        model = untrained_model()
        history = model.fit(TrainArgs(batch_size=32, epochs=4, learning_rate=3e-3, patience=0), progress=False)
    finally:
        torch.set_num_threads(threads)
    return model, history


@pytest.fixture(scope="module")
def bundle_dir(trained, tmp_path_factory):
    model, _ = trained
    path = tmp_path_factory.mktemp("bundle") / "model"
    return model.save(path, model="CharacterModel", network=NETWORK, network_args={"hidden": 32}, model_args={},
                      metrics={"accuracy": 0.5, "loss": 1.25})


@pytest.fixture
def predictor(bundle_dir, textrec_plugin):
    textrec_plugin(SmallNetPlugin, name="test-small-net")
    return load_predictor(bundle_dir)


def test_the_test_dataset_satisfies_the_dataset_protocol():
    dataset = QuadrantDataset()
    dataset.prepare()  # isinstance reads the split properties (Python 3.11's runtime protocols)
    assert isinstance(dataset, Dataset)


# --- CharacterModel -------------------------------------------------------------------------------


def test_loss_is_cross_entropy_and_the_batch_metric_a_count_of_correct_samples():
    model = untrained_model()
    logits = torch.full((3, 62), -1.0)
    logits[0, 0] = logits[1, 5] = logits[2, 7] = 4.0
    labels = torch.tensor([0, 5, 2])
    assert model.loss(logits, labels).item() == pytest.approx(F.cross_entropy(logits, labels).item())
    assert model.loss(logits, labels).item() > model.loss(logits, torch.tensor([0, 5, 7])).item()
    assert model.batch_metrics(logits, labels) == {"correct": 2}  # a sum: evaluate divides by the samples


def test_decode_gives_the_character_and_its_softmax_probability():
    model = untrained_model()
    logits = torch.zeros(2, 62)
    logits[0, 10] = 3.0  # 'A'
    logits[1, 61] = 1.0  # 'z'
    decoded = model.decode(logits)
    assert [text for text, _ in decoded] == ["A", "z"]
    assert decoded[0][1] == pytest.approx(np.exp(3) / (np.exp(3) + 61))
    assert decoded[1][1] == pytest.approx(np.exp(1) / (np.exp(1) + 61))


def test_label_text_maps_indices_to_characters():
    assert untrained_model().label_text(torch.tensor([0, 9, 10, 35, 36, 61])) == ["0", "9", "A", "Z", "a", "z"]


def test_evaluate_averages_loss_and_accuracy_over_the_whole_split():
    """Batches of 7 leave a smaller last batch: the averages must weight samples, not batches."""
    model = untrained_model()
    split = model.dataset.test
    images, labels = next(split.batches(len(split)))
    with torch.no_grad():
        logits = model.network(images)
    metrics = model.evaluate(split, batch_size=7)
    assert set(metrics) == {"loss", "accuracy"}
    assert metrics["loss"] == pytest.approx(F.cross_entropy(logits, labels).item(), rel=1e-5)
    assert metrics["accuracy"] == pytest.approx((logits.argmax(dim=1) == labels).float().mean().item())


def test_fit_learns_an_easy_task(trained):
    model, history = trained
    assert len(history["train_loss"]) == 4
    assert history["train_loss"][-1] < history["train_loss"][0]
    assert history["val_accuracy"][-1] >= 0.95
    assert model.evaluate(model.dataset.test)["accuracy"] >= 0.95


def test_confusion_matrix_counts_every_sample_once():
    model = untrained_model()  # untrained, so that it makes mistakes
    split = model.dataset.test
    images, labels = next(split.batches(len(split)))
    with torch.no_grad():
        predicted = model.network(images).argmax(dim=1)
    expected = np.zeros((62, 62), dtype=np.int64)
    np.add.at(expected, (labels.numpy(), predicted.numpy()), 1)
    matrix = model.confusion_matrix(split)
    assert matrix.shape == (62, 62)
    assert matrix.sum() == len(split)
    assert np.trace(matrix) == (predicted == labels).sum().item() < len(split)
    assert np.array_equal(matrix, expected)


def test_write_report_writes_a_confusion_matrix_png(trained, tmp_path):
    model, _ = trained
    paths = model.write_report(model.dataset.test, tmp_path)
    assert paths == [tmp_path / "confusion_matrix.png"]
    with Image.open(paths[0]) as image:
        assert image.format == "PNG"
        assert min(image.size) >= 200
        image.verify()


def test_save_writes_a_bundle_the_core_reads(trained, bundle_dir):
    model, _ = trained
    bundle = Bundle(bundle_dir)
    assert bundle.mapping == EMNIST_MAPPING
    assert bundle.shapes == model.dataset.shapes
    assert bundle.metrics == {"accuracy": 0.5, "loss": 1.25}
    assert (bundle.meta["model"], bundle.meta["predictor"]) == ("CharacterModel", "CharacterPredictor")
    assert (bundle.meta["network"], bundle.meta["network_args"], bundle.model_args) == (NETWORK, {"hidden": 32}, {})
    weights = bundle.state_dict()
    assert weights.keys() == model.network.state_dict().keys()
    assert all(torch.equal(weights[k], v) for k, v in model.network.state_dict().items())


def test_save_without_the_network_name_is_an_error(tmp_path):
    with pytest.raises(BundleError, match="network, network_args"):
        untrained_model().save(tmp_path / "model")
    assert not (tmp_path / "model").exists()


# --- CharacterPredictor ---------------------------------------------------------------------------


def test_predictor_agrees_with_the_model(trained, predictor):
    model, _ = trained
    assert isinstance(predictor, CharacterPredictor)
    images = model.dataset.test.images[:32]
    expected = model.predict(images.float() / 255)
    predictions = predictor.predict_batch(list(images.numpy()))
    assert [text for text, _ in predictions] == [text for text, _ in expected]
    assert [conf for _, conf in predictions] == pytest.approx([conf for _, conf in expected], abs=1e-5)
    assert predictor.predict(images[0].numpy()) == predictions[0]
    assert predictor.predict_batch([]) == []


def test_dark_ink_on_light_paper_reads_like_light_on_dark(trained, predictor):
    model, _ = trained
    for image in model.dataset.test.images[:16].numpy():
        text, conf = predictor.predict(image)
        inverted_text, inverted_conf = predictor.predict(255 - image)
        assert inverted_text == text
        assert inverted_conf == pytest.approx(conf, abs=1e-5)


def test_files_and_pil_images_read_like_arrays(trained, predictor, tmp_path):
    model, _ = trained
    image = model.dataset.test.images[0].numpy()
    path = tmp_path / "char.png"
    Image.fromarray(image).save(path)
    expected = predictor.predict(image)
    assert predictor.predict(path) == pytest.approx(expected)
    assert predictor.predict(str(path)) == pytest.approx(expected)
    with Image.open(path) as opened:
        assert predictor.predict(opened) == pytest.approx(expected)


def test_frame_character_centres_an_off_centre_character_in_a_larger_image():
    image = np.zeros((60, 45), dtype=np.float32)
    image[3:19, 30:40] = 0.8  # 16 x 10 px of ink near the top-right corner
    framed = frame_character(image, (28, 28))
    assert framed.shape == (28, 28)
    assert framed.max() == pytest.approx(1.0)
    rows = np.flatnonzero((framed > 0.5).any(axis=1))
    cols = np.flatnonzero((framed > 0.5).any(axis=0))
    assert abs((rows[0] + rows[-1]) / 2 - 13.5) <= 1
    assert abs((cols[0] + cols[-1]) / 2 - 13.5) <= 1
    assert 20 <= rows[-1] - rows[0] + 1 <= 26  # the taller side fills the frame less a margin
    assert rows[-1] - rows[0] > cols[-1] - cols[0]  # the aspect ratio is kept


def test_a_large_dark_on_light_image_is_read_as_its_ink_framed(trained, predictor):
    model, _ = trained
    image = np.full((80, 64), 255, dtype=np.uint8)
    image[10:40, 40:50] = 0  # a dark bar on white paper, off centre
    framed = frame_character(1 - image.astype(np.float32) / 255, (28, 28))
    (expected,) = model.predict(torch.from_numpy(framed)[None])
    assert predictor.predict(image) == pytest.approx(expected, abs=1e-5)


@pytest.mark.parametrize("blank", [np.zeros((40, 40)), np.full((40, 30), 255, dtype=np.uint8)])
def test_a_blank_image_is_an_input_error(predictor, blank):
    with pytest.raises(InputImageError, match="no ink"):
        predictor.predict(blank)


def test_a_blank_image_of_the_input_size_is_an_input_error(predictor):
    with pytest.raises(InputImageError, match="no ink"):
        predictor.predict(np.zeros((28, 28), dtype=np.uint8))


def test_a_missing_file_is_an_input_error(predictor, tmp_path):
    with pytest.raises(InputImageError, match=r"image file '.*missing\.png' does not exist"):
        predictor.predict(tmp_path / "missing.png")


def test_a_file_that_is_not_an_image_is_an_input_error(predictor, tmp_path):
    path = tmp_path / "notes.png"
    path.write_text("not a picture")
    with pytest.raises(InputImageError, match=r"cannot read image '.*notes\.png'"):
        predictor.predict(path)


@pytest.mark.parametrize(
    ("image", "message"),
    [
        (np.full((28, 28), "x"), "non-numeric dtype <U1"),
        (np.zeros(28, dtype=np.uint8), r"expected a 2-D grayscale or RGB image, got shape \(28,\)"),
        (np.zeros((2, 28, 28), dtype=np.uint8), r"got shape \(2, 28, 28\)"),
        (np.full((28, 28), np.nan), "NaN or infinite"),
        ([[0.0] * 28] * 28, "expected a file path, numpy array or PIL image, got list"),
    ],
)
def test_unusable_arrays_are_input_errors(predictor, image, message):
    with pytest.raises(InputImageError, match=message):
        predictor.predict(image)


# --- corrupt bundles ------------------------------------------------------------------------------


@pytest.fixture
def damaged(bundle_dir, tmp_path):
    """A copy of the bundle to break."""
    return shutil.copytree(bundle_dir, tmp_path / "model")


def test_a_bundle_without_bundle_json_is_a_bundle_error(damaged):
    (damaged / "bundle.json").unlink()
    with pytest.raises(BundleError, match="is not a textrec model bundle"):
        load_predictor(damaged)


def test_a_bundle_with_invalid_json_is_a_bundle_error(damaged):
    (damaged / "bundle.json").write_text("{not json")
    with pytest.raises(BundleError, match="is not valid JSON"):
        load_predictor(damaged)


def test_a_bundle_of_another_version_is_a_bundle_error(damaged):
    meta = json.loads((damaged / "bundle.json").read_text())
    (damaged / "bundle.json").write_text(json.dumps({**meta, "version": 99}))
    with pytest.raises(BundleError, match="has bundle version 99"):
        load_predictor(damaged)


def test_a_bundle_with_garbage_weights_is_a_bundle_error(damaged, textrec_plugin):
    textrec_plugin(SmallNetPlugin, name="test-small-net")
    (damaged / "weights.pt").write_bytes(b"\x00garbage" * 64)
    with pytest.raises(BundleError, match="cannot read weights"):
        load_predictor(damaged)


def test_a_bundle_without_weights_is_a_bundle_error(damaged, textrec_plugin):
    textrec_plugin(SmallNetPlugin, name="test-small-net")
    (damaged / "weights.pt").unlink()
    with pytest.raises(BundleError, match="has no weights.pt"):
        load_predictor(damaged)
