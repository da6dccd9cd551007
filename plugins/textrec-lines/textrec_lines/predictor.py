"""``LinePredictor``: reads a line of text from an image of any size (inference only).

Preprocessing rule: the image is made grayscale and bright-ink-on-dark, its contrast stretched
(the polarity and contrast rules of :mod:`textrec_core.services.images`), framed by its ink when
the model's data is (its shapes' ``ink_margin``; the ink-framing rule), scaled to the model's
input height keeping its aspect ratio, and padded on the right with background. A model with a
fixed input width (``variable_width`` false) gets lines wider than that width scaled down to fit
it, centred vertically; a variable-width model gets the line at its natural width, and a batch
is padded to its widest line.
"""

from __future__ import annotations

import numpy as np
import torch
from skimage.transform import resize

from textrec_core.bundle import Bundle
from textrec_core.predictor import ImagePredictor
from textrec_core.protocols import Model
from textrec_core.services.images import ImageInput, frame_ink, ink_bright, stretch_contrast, to_grayscale


def fit_line(image: np.ndarray, height: int, width: int | None) -> np.ndarray:
    """Scale ``image`` (bright ink) to ``height`` keeping aspect; fit and pad it to ``width`` if given."""
    scale = height / image.shape[0]
    if width is not None and image.shape[1] * scale > width:
        scale = width / image.shape[1]
    new_shape = (max(1, round(image.shape[0] * scale)), max(1, round(image.shape[1] * scale)))
    if new_shape != image.shape:
        image = resize(image, new_shape, anti_aliasing=scale < 1, preserve_range=True).astype(np.float32)
    canvas = np.zeros((height, width if width is not None else new_shape[1]), dtype=np.float32)
    top = (height - new_shape[0]) // 2
    canvas[top : top + new_shape[0], : new_shape[1]] = image
    return canvas


class LinePredictor(ImagePredictor):
    """Serves any line model's bundle: ``predict(image) -> (text, confidence)``."""

    def __init__(self, model: Model, bundle: Bundle) -> None:
        super().__init__(model, bundle)
        self.ink_margin = bundle.shapes.ink_margin

    def preprocess(self, image: ImageInput) -> np.ndarray:
        height, width = self.input_shape
        fixed = None if getattr(self.model, "variable_width", False) else width
        line = stretch_contrast(ink_bright(to_grayscale(image)))
        if self.ink_margin is not None:
            line = frame_ink(line, self.ink_margin)
        return fit_line(line, height, fixed)

    def collate(self, arrays: list[np.ndarray]) -> torch.Tensor:
        widest = max(a.shape[1] for a in arrays)
        batch = np.zeros((len(arrays), arrays[0].shape[0], widest), dtype=np.float32)
        for i, array in enumerate(arrays):
            batch[i, :, : array.shape[1]] = array
        return torch.from_numpy(batch)
