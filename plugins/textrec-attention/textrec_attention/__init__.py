"""textrec plugin: the attention encoder-decoder ``line_attention`` and ``LineModelAttention``."""

from textrec_attention.model import LineModelAttention, teacher_forcing
from textrec_attention.network import LineAttention, line_attention
from textrec_attention.search import Hypothesis, beam_search, greedy_search

__all__ = [
    "Hypothesis", "LineAttention", "LineModelAttention", "beam_search", "greedy_search", "line_attention",
    "teacher_forcing",
]
