"""Registers ``CharacterModel`` (alias ``character``) and ``CharacterPredictor`` with textrec."""

from textrec_character.model import CharacterModel
from textrec_character.predictor import CharacterPredictor
from textrec_core import hookimpl


@hookimpl
def textrec_register_components(register):
    register.model(CharacterModel, aliases=("character",))
    register.predictor(CharacterPredictor)
