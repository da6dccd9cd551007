"""Keeping low-confidence inputs for labeling (off by default).

With ``low_confidence_dir`` set, a prediction whose confidence is below ``low_confidence_below``
is stored as a line of that folder, in the corrections folder's format
(:mod:`textrec_web.corrections`: IAM's layout, ids ``w00-000-00``, ..., the image as received,
dark ink on light paper), labeled with the model's reading, for labelers to correct (``textrec-data
export-tasks BUNDLE FOLDER/lines tasks.json`` pre-annotates them). The folder holds at most
``low_confidence_max_mb``; past it, predictions are no longer kept. A reading the layout cannot
hold as a line's text (no words, over 100 characters, a ``|``) is not kept either. Keeping never
changes the prediction's answer.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from textrec_web.corrections import CorrectionStore, check_text
from textrec_web.errors import ApiError
from textrec_web.settings import MIB, Settings

#: What became of a low-confidence input (``keep``'s outcome).
OUTCOMES = ("stored", "full", "unstorable")


class LowConfidenceStore:
    """Keeps images read with a confidence below ``below`` in ``store``."""

    def __init__(self, store: CorrectionStore, below: float) -> None:
        self.store = store
        self.below = below

    @classmethod
    def from_settings(cls, settings: Settings) -> LowConfidenceStore | None:
        """The store of ``settings.low_confidence_dir`` (created now; ``SettingsError`` when it cannot
        be written), or None when low-confidence inputs are not kept."""
        if settings.low_confidence_dir is None:
            return None
        store = CorrectionStore(Path(settings.low_confidence_dir), settings.low_confidence_max_mb * MIB,
                                setting="low_confidence_dir")
        return cls(store, settings.low_confidence_below)

    def keep(self, image: np.ndarray, text: str, confidence: float) -> tuple[str, str | None] | None:
        """None when ``confidence`` is not below the threshold; else ``(outcome, line id)``: ``("stored",
        id)``, or ``("full", None)`` when the folder is at its cap, ``("unstorable", None)`` when
        ``text`` cannot be a line's text (see :data:`OUTCOMES`)."""
        if not confidence < self.below:
            return None
        try:
            stored = check_text(text)
        except ApiError:
            return "unstorable", None
        try:
            return "stored", self.store.add(image, stored)
        except ApiError as exc:
            if exc.code != "corrections_full":
                raise
            return "full", None
