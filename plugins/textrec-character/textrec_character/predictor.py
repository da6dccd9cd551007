"""``CharacterPredictor``: reads one character from an image (inference only).

Preprocessing: the image is made grayscale and bright-ink-on-dark (the core's polarity rule,
``textrec_core.services.images``). An image already of the model's input size is used as it is;
any other is cropped to its ink, centred in a square with a margin of 2/28 of its side (EMNIST's
framing) and resized to the input size.
"""

from __future__ import annotations

import numpy as np
from skimage.transform import resize

from textrec_core.errors import InputImageError
from textrec_core.predictor import ImagePredictor
from textrec_core.services.images import ImageInput, ink_bright, to_grayscale

INK_THRESHOLD = 0.2


def frame_character(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Crop ``image`` (bright ink) to its ink and centre it in a ``size`` frame, EMNIST-style."""
    if float(image.max()) - float(image.min()) < 0.05:
        raise InputImageError("the image holds no ink (it is blank)")
    if image.shape == size:
        return image
    ink = image > INK_THRESHOLD * float(image.max())
    rows, cols = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
    crop = image[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    side = max(crop.shape)
    margin = max(1, round(side * 2 / (size[0] - 4)))
    square = np.zeros((side + 2 * margin, side + 2 * margin), dtype=np.float32)
    top = (square.shape[0] - crop.shape[0]) // 2
    left = (square.shape[1] - crop.shape[1]) // 2
    square[top : top + crop.shape[0], left : left + crop.shape[1]] = crop
    framed = resize(square, size, anti_aliasing=True, preserve_range=True).astype(np.float32)
    return framed / max(float(framed.max()), 1e-6)


class CharacterPredictor(ImagePredictor):
    """Serves a ``CharacterModel`` bundle: ``predict(image) -> (character, confidence)``.

    Built by :func:`~textrec_core.predictor.load_predictor` as ``CharacterPredictor(model, bundle)``.
    """

    def preprocess(self, image: ImageInput) -> np.ndarray:
        return frame_character(ink_bright(to_grayscale(image)), self.input_shape)
