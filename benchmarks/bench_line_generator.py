"""Lines per second of textrec's vectorised line generator versus straightforward references.

All renderers build the same kind of lines (max_length 34 by default, overlap drawn per line in
[0, 0.33], glyphs picked at random per character) from the same texts and glyph pool, in one
process, one thread:

- ``textrec``: ``render_lines`` (random choices drawn for the whole batch, then every glyph
  merged into place by the compiled kernel of ``_paste.c`` in one pass);
- ``textrec-numpy``: the same choices pasted by ``numpy_paste``, the fallback of an install
  without a C compiler (lines in blocks of one stride, every g-th slot of a block's lines in one
  strided numpy copy);
- ``straightforward``: what the labs' generator does, for each line and each character, pick a
  random image of that character and paste it at the next position (Python loops);
- ``paste-only``: ``reference_render_lines``, textrec's batched random choices followed by one
  paste per character in a Python loop, isolating the paste.

    python benchmarks/bench_line_generator.py                      # glyphs: real EMNIST via TEXTREC_DATA_MIRROR
    python benchmarks/bench_line_generator.py --char-source synthetic
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import torch

from textrec_core.mapping import EMNIST_MAPPING
from textrec_core.plugins import components
from textrec_emnist_lines.generator import GlyphPool, draw_choices, reference_render_lines, render_lines
from textrec_emnist_lines.paste import COMPILED, numpy_paste
from textrec_emnist_lines.text import load_text, normalize, sample_texts


def straightforward(texts: list[str], pool: GlyphPool, rng: np.random.Generator, max_length: int,
                    min_overlap: float, max_overlap: float) -> np.ndarray:
    """One line at a time, one character at a time: pick an image of the character, paste it."""
    by_class = {c: np.flatnonzero(pool.labels == c) for c in range(len(EMNIST_MAPPING))}
    images = np.zeros((len(texts), 28, 28 * max_length), dtype=np.uint8)
    for line, text in enumerate(texts):
        stride = round(28 * (1 - rng.uniform(min_overlap, max_overlap)))
        for position, char in enumerate(text):
            if char == " ":
                continue
            candidates = by_class[EMNIST_MAPPING.index(char)]
            glyph = pool.images[candidates[rng.integers(len(candidates))]]
            window = images[line, :, position * stride : position * stride + 28]
            np.maximum(window, glyph, out=window)
    return images


def rate(render, texts, repeats: int) -> float:
    times = []
    for seed in range(repeats):
        start = time.perf_counter()
        render(texts, np.random.default_rng(seed))
        times.append(time.perf_counter() - start)
    return len(texts) / statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--char-source", default="emnist", help="registered character dataset (default: emnist)")
    parser.add_argument("--text-source", default="builtin")
    parser.add_argument("--max-length", type=int, default=34)
    parser.add_argument("--lines", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    torch.set_num_threads(1)
    chars = components().get("dataset", args.char_source)()
    chars.prepare()
    pool = GlyphPool(chars.train.images.numpy(), chars.train.labels.numpy())
    corpus = normalize(load_text(args.text_source))
    texts = sample_texts(corpus, np.random.default_rng(0), args.lines, args.max_length)
    options = {"max_length": args.max_length, "min_overlap": 0.0, "max_overlap": 0.33}
    rates = {
        "textrec": rate(lambda t, rng: render_lines(t, pool, rng, **options), texts, args.repeats),
        "textrec-numpy": rate(lambda t, rng: numpy_paste(draw_choices(t, pool, rng, **options), pool), texts,
                              args.repeats),
        "straightforward": rate(lambda t, rng: straightforward(t, pool, rng, **options), texts, args.repeats),
        "paste-only": rate(lambda t, rng: reference_render_lines(t, pool, rng, **options), texts, args.repeats),
    }
    print(f"{args.lines} lines, max_length {args.max_length}, glyphs from {args.char_source} "
          f"({len(pool.labels)} images), median of {args.repeats} runs, 1 thread, "
          f"compiled paste {'installed' if COMPILED else 'NOT installed (textrec is the numpy fallback)'}")
    for name, value in rates.items():
        print(f"{name:16s} {value:10.0f} lines/s   textrec is {rates['textrec'] / value:5.1f}x")


if __name__ == "__main__":
    main()
