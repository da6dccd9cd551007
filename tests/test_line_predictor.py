"""LinePredictor (built into the core) serving a LineModel bundle saved by textrec-run."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from PIL import Image

from textrec_core import load_predictor
from textrec_core.cli import main
from textrec_core.errors import InputImageError
from textrec_core.line_predictor import LinePredictor, fit_line
from textrec_emnist_lines import EmnistLinesDataset

DATASET_ARGS = {"max_length": 8, "max_overlap": 0.0, "num_train": 600, "num_val": 64, "num_test": 64,
                "char_source": "synthetic", "text_source": "builtin"}


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    runs = tmp_path_factory.mktemp("runs")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("TEXTREC_RUNS_DIR", str(runs))
        mp.setenv("WANDB_MODE", "disabled")
        config = {"dataset": "emnist_lines", "dataset_args": DATASET_ARGS, "model": "LineModel",
                  "network": "line_cnn_all_conv", "train_args": {"epochs": 2, "batch_size": 32}}
        assert main(["--save", "--quiet", json.dumps(config)]) == 0
        (run,) = runs.iterdir()
        dataset = EmnistLinesDataset(**DATASET_ARGS)
        dataset.prepare()
        images, _ = next(iter(dataset.test.batches(16)))
        yield run / "model", images.numpy()


def test_load_predictor_gives_a_line_predictor_matching_the_model(saved):
    bundle, images = saved
    predictor = load_predictor(bundle)
    assert isinstance(predictor, LinePredictor)
    batch = predictor.predict_batch(list(images))
    direct = predictor.model.predict(torch.from_numpy(images))
    assert [t for t, _ in batch] == [t for t, _ in direct]
    assert all(0.0 <= c <= 1.0 for _, c in batch)
    assert predictor.predict(images[0]) == pytest.approx(batch[0])


def test_files_pil_polarity_and_scale_are_handled(saved, tmp_path):
    bundle, images = saved
    predictor = load_predictor(bundle)
    for i, image in enumerate(images[:4]):
        expected = predictor.predict(image)[0]
        as_uint8 = (image * 255).round().astype(np.uint8)
        path = tmp_path / f"line{i}.png"
        Image.fromarray(255 - as_uint8).save(path)  # dark ink on white paper
        assert predictor.predict(path)[0] == expected
        assert predictor.predict(Image.open(path))[0] == expected
        doubled = np.kron(as_uint8, np.ones((2, 2), dtype=np.uint8))  # 56 px high: scaled back to 28
        assert predictor.predict(doubled)[0] == expected


def test_fit_line_keeps_aspect_pads_and_shrinks_to_width():
    line = np.zeros((56, 100), dtype=np.float32)
    line[10:40, 5:95] = 1.0
    fitted = fit_line(line, 28, 224)
    assert fitted.shape == (28, 224)
    assert fitted[:, 50:].max() == 0  # 100 px at half scale is 50 px wide, the rest is padding
    wide = np.ones((28, 448), dtype=np.float32)
    shrunk = fit_line(wide, 28, 224)
    assert shrunk.shape == (28, 224) and shrunk[:7].max() == 0 and shrunk[14].min() > 0.9
    assert fit_line(np.ones((14, 30), dtype=np.float32), 28, None).shape == (28, 60)


def test_bad_input_is_refused_clearly(saved, tmp_path):
    predictor = load_predictor(saved[0])
    (tmp_path / "notes.txt").write_text("not an image")
    for bad, message in [(tmp_path / "missing.png", "does not exist"), (tmp_path / "notes.txt", "cannot read image"),
                         (np.zeros(10), "expected a 2-D"), ("x" * 3, "does not exist")]:
        with pytest.raises(InputImageError, match=message):
            predictor.predict(bad)
