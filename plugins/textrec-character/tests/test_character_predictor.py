"""A character predictor trained by textrec-run on real EMNIST reads held-out characters.

Trains an MLP for two epochs on the mirror's real EMNIST (train 90,000 / test 10,000), saves
the bundle, and checks the predictor on test-split characters it never saw, given as numpy
arrays, PNG files and PIL images, in both polarities. Needs the textrec-emnist and textrec-mlp
plugins besides this one (skipped where they are not installed) and the data mirror.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from textrec_core import load_predictor
from textrec_core.cli import main

NEEDS = "the real-EMNIST predictor test trains with the textrec-emnist and textrec-mlp plugins"
emnist = pytest.importorskip("textrec_emnist", reason=f"{NEEDS}; textrec-emnist is not installed")
pytest.importorskip("textrec_mlp", reason=f"{NEEDS}; textrec-mlp is not installed")


@pytest.fixture(scope="module")
def trained(tmp_path_factory, mirror_dir):
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("TEXTREC_DATA_MIRROR", str(mirror_dir))
        runs = tmp_path_factory.mktemp("runs")
        mp.setenv("TEXTREC_RUNS_DIR", str(runs))
        mp.setenv("WANDB_MODE", "disabled")
        config = {"dataset": "EmnistDataset", "model": "CharacterModel", "network": "mlp",
                  "train_args": {"epochs": 2, "batch_size": 256}}
        assert main(["--save", "--quiet", json.dumps(config)]) == 0
        (run,) = runs.iterdir()
        dataset = emnist.EmnistDataset()
        dataset.prepare()
        images, labels = dataset.test.images[:300].numpy(), dataset.test.labels[:300].numpy()
        yield load_predictor(run / "model"), images, labels, dataset.shapes.mapping


def test_predicts_held_out_characters_correctly_with_confidence(trained):
    predictor, images, labels, mapping = trained
    predictions = predictor.predict_batch(list(images))
    truth = [mapping[i] for i in labels]
    correct = np.array([text == t for (text, _), t in zip(predictions, truth)])
    confidence = np.array([conf for _, conf in predictions])
    assert correct.mean() > 0.7
    confident = confidence > 0.9
    assert confident.sum() >= 100
    assert correct[confident].mean() > 0.95
    assert confidence[correct].mean() > confidence[~correct].mean()


def test_file_pil_and_dark_on_light_inputs_agree_with_arrays(trained, tmp_path):
    predictor, images, _, _ = trained
    for i, image in enumerate(images[:20]):
        expected = predictor.predict(image)
        path = tmp_path / f"char{i}.png"
        Image.fromarray(image).save(path)
        assert predictor.predict(path) == pytest.approx(expected)
        assert predictor.predict(str(path)) == pytest.approx(expected)
        assert predictor.predict(Image.open(path)) == pytest.approx(expected)
        # dark ink on white paper, as a person would photograph it
        assert predictor.predict(255 - image)[0] == expected[0]
