"""textrec plugin: single-character recognition (``CharacterModel``, ``CharacterPredictor``)."""

from textrec_character.model import CharacterModel
from textrec_character.predictor import CharacterPredictor

__all__ = ["CharacterModel", "CharacterPredictor"]
