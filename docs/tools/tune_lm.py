"""Choose ``lm_weight`` and ``lm_bonus`` of LineModelCtc's ``beam_lm`` decoder on a validation split.

Reads the saved model's per-frame log-probabilities of every line of the dataset's ``val`` split
once, then decodes them with the beam search fused with the character language model for each
pair of the grid, and prints the validation CER of each (and of the plain beam). The test split
is never read. Example::

    TEXTREC_DATA_MIRROR=../shared/mirror NLTK_DATA=../shared/mirror/nltk_data \\
        python docs/tools/tune_lm.py runs/<run>/model '{"dataset": "iam_ondb"}' \\
        --weights 0.3,0.5,0.8 --bonuses 0,1,2
"""

from __future__ import annotations

import argparse

import torch

from textrec_core.plugins import components
from textrec_core.predictor import load_predictor
from textrec_core.services.metrics import character_error_rate
from textrec_eval.data import build_dataset, data_config
from textrec_lines import content_widths
from textrec_lines.language_model import load_language_model
from textrec_lstm_ctc.ctc import beam_decode_batch
from textrec_lstm_ctc.model import lm_extension_scores


def floats(text: str) -> list[float]:
    return [float(part) for part in text.split(",")]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("bundle")
    parser.add_argument("data", help="a dataset config JSON object; its val split is read")
    parser.add_argument("--weights", type=floats, default=[0.3, 0.5, 0.8])
    parser.add_argument("--bonuses", type=floats, default=[0.0, 1.0, 2.0])
    args = parser.parse_args()
    model = load_predictor(args.bundle).model
    dataset = build_dataset(data_config(args.data), components())
    dataset.prepare()
    readings, truths = [], []
    model.network.eval()
    with torch.inference_mode():
        for images, labels in dataset.val.batches(64):
            lengths = model.network.output_lengths(content_widths(images))
            readings.append((model.network(images).float().log_softmax(-1), lengths))
            truths += model.label_text(labels)
    language_model = load_language_model(model.lm, [t for t in model.mapping.tokens if len(t) == 1], model.lm_order)

    def cer(scores) -> float:
        texts = [model.mapping.spell(tokens) for log_probs, lengths in readings
                 for tokens, _ in beam_decode_batch(log_probs, model.blank_index, model.beam_width, lengths, scores)]
        return character_error_rate(texts, truths)

    print(f"val lines {len(truths)}; beam without the language model: CER {cer(None):.4f}", flush=True)
    for weight in args.weights:
        for bonus in args.bonuses:
            scores = lm_extension_scores(language_model, model.mapping, weight, bonus)
            print(f"lm_weight {weight:g} lm_bonus {bonus:g}: CER {cer(scores):.4f}", flush=True)


if __name__ == "__main__":
    main()
