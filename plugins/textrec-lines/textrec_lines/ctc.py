"""The CTC loss of line models: ``LineModelCtc``'s loss and confidence, the attention model's auxiliary loss."""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F


def ctc_loss(logits: torch.Tensor, targets: Sequence[Sequence[int]], blank: int, *,
             input_lengths: torch.Tensor | None = None, reduction: str = "mean",
             zero_infinity: bool = True) -> torch.Tensor:
    """CTC loss (:func:`torch.nn.functional.ctc_loss`) of one target per line over per-frame class scores.

    ``logits`` are ``(B, T, C)`` scores of every class, the ``blank`` included, at each frame;
    their log-softmax is taken in float32, also when they are bfloat16 (autocast), and the loss
    is float32. ``targets`` holds each line's class indices (no padding, no blank; may be
    empty). ``input_lengths`` ``(B,)`` counts each line's real frames, its first ones; ``None``
    means all ``T``. ``reduction``: ``"none"``, one loss per line; ``"sum"``; ``"mean"``, each
    line's loss divided by its target length (an empty target counts as 1), averaged over the
    lines. A line with fewer frames than its target needs (a frame per character plus one
    between repeated neighbours) has infinite loss, made 0 with no gradient by ``zero_infinity``.
    """
    batch, frames = logits.shape[:2]
    device = logits.device
    flat = torch.tensor([index for target in targets for index in target], dtype=torch.long, device=device)
    target_lengths = torch.tensor([len(target) for target in targets], dtype=torch.long, device=device)
    if input_lengths is None:
        input_lengths = torch.full((batch,), frames, dtype=torch.long, device=device)
    log_probs = logits.float().log_softmax(dim=-1).transpose(0, 1)  # (T, B, C), as torch wants
    return F.ctc_loss(log_probs, flat, input_lengths, target_lengths, blank=blank, reduction=reduction,
                      zero_infinity=zero_infinity)
