"""``LinePredictor`` serving a saved line model's bundle, and ``fit_line``.

The model is a stand-in defined here, so that these tests need only the core and this plugin: its
network reads each 28-pixel window of a line as the brightest pixel in it, quantised to a letter
(0.25 ``a`` .. 1.0 ``d``; a dark window is ``<pad>``). The lines read hold a ``d`` (full
brightness) and are mostly background, so that the predictor's contrast rule keeps their levels.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image
from torch import nn

import textrec_lines.plugin
from textrec_core import CharacterMapping, DataShapes, load_predictor
from textrec_core.components import ComponentRegister, Components
from textrec_core.errors import InputImageError
from textrec_core.mapping import PAD
from textrec_core.model import InferenceData
from textrec_core.plugins import components, reset_host
from textrec_lines import LinePredictor, SequenceModel, fit_line

MAPPING = CharacterMapping((PAD, "a", "b", "c", "d"))
WINDOW = 28
MAX_LENGTH = 4


class BrightestPixel(nn.Module):
    """Logits ``(B, W // 28, 5)``: window ``t``'s class is its brightest pixel times 4, rounded."""

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        brightest = images.unfold(2, WINDOW, WINDOW).amax(dim=(1, 3))  # (B, T)
        return -10.0 * (brightest.unsqueeze(2) * 4 - torch.arange(len(MAPPING))) ** 2


def brightest_pixel(shapes: DataShapes) -> nn.Module:
    return BrightestPixel()


class WindowModel(SequenceModel):
    """Reads the argmax class of each window; confidence, the product of their probabilities."""

    def decode(self, logits: torch.Tensor) -> list[tuple[str, float]]:
        log_probs, indices = logits.log_softmax(dim=-1).max(dim=-1)
        return list(zip(self.label_text(indices), log_probs.sum(dim=1).exp().tolist()))


class VariableWindowModel(WindowModel):
    variable_width = True


def table() -> Components:
    """This plugin's registrations and the stand-in network and models."""
    components = Components()
    register = ComponentRegister(components, "textrec-lines")
    textrec_lines.plugin.textrec_register_components(register)
    register.network(brightest_pixel)
    register.model(WindowModel)
    register.model(VariableWindowModel)
    return components


def line(text: str, *, width: int | None = None) -> np.ndarray:
    """A float line 28 pixels high: per character an 8x8 square of its brightness in its 28-pixel window."""
    image = np.zeros((28, width or WINDOW * len(text)), dtype=np.float32)
    for position, character in enumerate(text):
        image[10:18, WINDOW * position + 10 : WINDOW * position + 18] = MAPPING.index(character) / 4
    return image


def save_bundle(model_cls: type[WindowModel], max_length: int, path, ink_margin: float | None = None) -> str:
    shapes = DataShapes((28, WINDOW * max_length), (max_length,), MAPPING, ink_margin)
    model = model_cls(InferenceData(shapes), BrightestPixel())
    return model.save(path, model=model_cls.__name__, network="brightest_pixel", network_args={}, model_args={})


@pytest.fixture(scope="module", params=[WindowModel, VariableWindowModel])
def bundle(request, tmp_path_factory):
    return save_bundle(request.param, MAX_LENGTH, tmp_path_factory.mktemp("bundle") / "model")


def test_the_plugin_registers_the_line_predictor():
    assert table().get("predictor", "LinePredictor") is LinePredictor


def test_installed_entry_point_provides_the_predictor():
    reset_host()
    entry = components()["predictor"].get("LinePredictor")
    assert (entry.obj, entry.provider) == (LinePredictor, "textrec-lines")


def test_load_predictor_gives_a_line_predictor_matching_the_model(bundle):
    predictor = load_predictor(bundle, table())
    assert isinstance(predictor, LinePredictor)
    images = [line(text, width=WINDOW * MAX_LENGTH) for text in ("abcd", "dcb", "d", "")]
    batch = predictor.predict_batch(images)
    assert [text for text, _ in batch] == ["abcd", "dcb", "d", ""]
    direct = predictor.model.predict(torch.from_numpy(np.stack(images)))
    assert batch == [(text, pytest.approx(confidence)) for text, confidence in direct]
    assert predictor.predict(images[1]) == pytest.approx(batch[1])


def test_files_pil_polarity_and_scale_are_handled(bundle, tmp_path):
    predictor = load_predictor(bundle, table())
    for i, text in enumerate(["abcd", "dcb", "bad"]):
        as_uint8 = (line(text) * 255).round().astype(np.uint8)
        path = tmp_path / f"line{i}.png"
        Image.fromarray(255 - as_uint8).save(path)  # dark ink on white paper
        assert predictor.predict(path)[0] == text
        assert predictor.predict(Image.open(path))[0] == text
        doubled = np.kron(as_uint8, np.ones((2, 2), dtype=np.uint8))  # 56 px high: scaled back to 28
        assert predictor.predict(doubled)[0] == text


def test_a_variable_width_model_reads_lines_at_their_natural_width(tmp_path):
    """A line wider than the training width is read whole, not shrunk; a batch pads to its widest line."""
    predictor = load_predictor(save_bundle(VariableWindowModel, 2, tmp_path / "model"), table())
    lines = [line("abcdcba"), line("d"), line("ad")]
    assert [predictor.preprocess(image).shape for image in lines] == [(28, 196), (28, 28), (28, 56)]
    assert [text for text, _ in predictor.predict_batch(lines)] == ["abcdcba", "d", "ad"]


def test_a_scan_with_gray_paper_and_gray_ink_is_read_as_the_clean_line(bundle):
    """The contrast rule: paper's level becomes the background, the ink's the full brightness."""
    predictor = load_predictor(bundle, table())
    clean = line("bad")
    scan = 0.85 - 0.55 * clean  # gray ink (0.3) on gray paper (0.85), dark on light
    assert predictor.predict(scan)[0] == "bad"
    assert predictor.predict(scan)[1] == pytest.approx(predictor.predict(clean)[1], abs=1e-3)


def test_a_model_trained_on_ink_framed_lines_reads_a_drawing_wherever_it_is_on_the_canvas(tmp_path):
    """Framed by its ink as the model's data is: each character's square spans its window's height
    less 2 pixels at the top and the bottom, so a margin of 2/28 frames the ink exactly as here."""
    tight = np.zeros((28, WINDOW * 3), dtype=np.float32)
    for position, character in enumerate("dbc"):
        tight[2:26, WINDOW * position + 2 : WINDOW * position + 26] = MAPPING.index(character) / 4
    canvas = np.zeros((160, 800), dtype=np.float32)  # drawn at twice the size, off the centre
    canvas[70:126, 300:468] = np.kron(tight, np.ones((2, 2), dtype=np.float32))
    framed = load_predictor(save_bundle(VariableWindowModel, 3, tmp_path / "framed", ink_margin=2 / 28), table())
    seen = framed.preprocess(canvas)
    assert seen.shape == tight.shape and np.abs(seen - tight).mean() < 0.02
    assert framed.predict(canvas)[0] == "dbc"
    whole = load_predictor(save_bundle(VariableWindowModel, 3, tmp_path / "whole"), table())
    assert whole.predict(canvas)[0] != "dbc"  # the whole canvas scaled to 28 pixels: the ink is tiny


def test_fit_line_keeps_aspect_pads_and_shrinks_to_width():
    image = np.zeros((56, 100), dtype=np.float32)
    image[10:40, 5:95] = 1.0
    fitted = fit_line(image, 28, 224)
    assert fitted.shape == (28, 224)
    assert fitted[:, 50:].max() == 0  # 100 px at half scale is 50 px wide, the rest is padding
    wide = np.ones((28, 448), dtype=np.float32)
    shrunk = fit_line(wide, 28, 224)
    assert shrunk.shape == (28, 224) and shrunk[:7].max() == 0 and shrunk[14].min() > 0.9
    assert fit_line(np.ones((14, 30), dtype=np.float32), 28, None).shape == (28, 60)


def test_bad_input_is_refused_clearly(bundle, tmp_path):
    predictor = load_predictor(bundle, table())
    (tmp_path / "notes.txt").write_text("not an image")
    for bad, message in [(tmp_path / "missing.png", "does not exist"), (tmp_path / "notes.txt", "cannot read image"),
                         (np.zeros(10), "expected a 2-D"), ("x" * 3, "does not exist")]:
        with pytest.raises(InputImageError, match=message):
            predictor.predict(bad)
