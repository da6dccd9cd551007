"""Fine-tuning ``line_lstm_ctc`` on another alphabet (``train_args.init_from``): its declared
output layer is remapped token by token and the rest copied, from a saved bundle and through
``textrec-run``."""

from __future__ import annotations

import copy
import json
import logging
from types import SimpleNamespace

import pytest
import torch

import textrec_lstm_ctc.plugin
from textrec_core import CharacterMapping, DataShapes, PreparedSplits, TensorSplit, hookimpl
from textrec_core.bundle import Bundle
from textrec_core.cli import main
from textrec_core.finetune import AlphabetChange, start_from
from textrec_core.mapping import BLANK, LINE_MAPPING, PAD
from textrec_core.services.download import sha256_file
from textrec_core.testing import assert_declares_class_indexed
from textrec_lstm_ctc import LineModelCtc, line_lstm_ctc

SMALL = {"conv_channels": 2, "lstm_size": 8, "lstm_layers": 1}
OUTPUT = ("classifier.1.weight", "classifier.1.bias")


def grown(mapping: CharacterMapping) -> CharacterMapping:
    """``mapping`` without ``Q``, with ``é`` after ``e`` and ``ß`` before the space: two characters
    more, one fewer, and most others at new indices."""
    tokens = [token for token in mapping.tokens if token != "Q"]
    tokens.insert(tokens.index("e") + 1, "é")
    tokens.insert(tokens.index(" "), "ß")
    return CharacterMapping(tokens)


def line_shapes(mapping: CharacterMapping, max_length: int = 4) -> DataShapes:
    return DataShapes((28, 28 * max_length), (max_length,), mapping)


pytestmark = pytest.mark.usefixtures("one_thread")


def test_the_output_layer_is_declared_class_indexed():
    assert_declares_class_indexed(line_lstm_ctc, line_shapes(LINE_MAPPING), **SMALL)


def test_a_grown_alphabet_keeps_known_rows_starts_new_ones_fresh_and_copies_the_rest(tmp_path):
    torch.manual_seed(0)
    trained = line_lstm_ctc(line_shapes(LINE_MAPPING), **SMALL)
    saved = LineModelCtc.for_inference(trained, line_shapes(LINE_MAPPING)).save(
        tmp_path / "bundle", model="LineModelCtc", network="line_lstm_ctc", network_args=SMALL, model_args={})
    source = trained.state_dict()
    new = grown(LINE_MAPPING)
    torch.manual_seed(1)
    network = line_lstm_ctc(line_shapes(new), **SMALL)
    fresh = copy.deepcopy(network.state_dict())

    start = start_from(network, Bundle(saved), line_shapes(new))
    assert start.change == AlphabetChange(tuple(t for t in new.tokens if t in LINE_MAPPING), ("é", "ß"), ("Q",))
    assert start.sha256 == sha256_file(saved / "weights.pt") and start.path == saved.resolve()
    state = network.state_dict()
    for key in OUTPUT:
        assert state[key].shape[0] == len(LINE_MAPPING) + 1
        for index, token in enumerate(new.tokens):
            expected = source[key][LINE_MAPPING.index(token)] if token in LINE_MAPPING else fresh[key][index]
            assert torch.equal(state[key][index], expected), (key, token)
        assert not torch.equal(fresh[key][new.index("e")], source[key][LINE_MAPPING.index("e")])  # copied, not kept
    rest = state.keys() - set(OUTPUT)
    assert rest and all(torch.equal(state[key], source[key]) for key in rest)


class GlyphLines(PreparedSplits):
    """Lines of up to 4 characters of ``alphabet``, each a random 28 x 28 glyph of its own, in an
    alphabet of those characters, the space, ``<pad>`` and ``<blank>``; version ``glyphs ALPHABET``."""

    def __init__(self, *, alphabet: str = "abc", size: int = 48) -> None:
        self.alphabet = alphabet
        self.size = size

    @property
    def shapes(self) -> DataShapes:
        return line_shapes(CharacterMapping([*self.alphabet, " ", PAD, BLANK]))

    def prepare(self) -> None:
        generator = torch.Generator().manual_seed(0)
        mapping = self.shapes.mapping
        glyphs = (torch.rand(len(mapping), 28, 28, generator=generator) > 0.7).to(torch.uint8) * 255
        lengths = torch.randint(1, 5, (self.size,), generator=generator)
        images = torch.zeros(self.size, 28, 28 * 4, dtype=torch.uint8)
        labels = torch.full((self.size, 4), mapping.index(PAD))
        for row, length in enumerate(lengths.tolist()):
            for position in range(length):
                label = int(torch.randint(0, len(self.alphabet), (), generator=generator))
                images[row, :, 28 * position: 28 * (position + 1)] = glyphs[label]
                labels[row, position] = label
        third = self.size // 3
        self.splits = {name: TensorSplit(images[part], labels[part]) for name, part in
                       (("train", slice(0, third)), ("val", slice(third, 2 * third)), ("test", slice(2 * third, None)))}
        self.version = f"glyphs {self.alphabet}"


def test_textrec_run_fine_tunes_a_saved_line_model_on_another_alphabet(bare_host, textrec_plugin, capsys, caplog):
    caplog.set_level(logging.INFO, logger="textrec")
    textrec_plugin(textrec_lstm_ctc.plugin, name="textrec-lstm-ctc")
    glyphs = hookimpl(lambda register: register.dataset(GlyphLines))
    textrec_plugin(SimpleNamespace(textrec_register_components=glyphs), name="textrec-glyphs")

    def trained(alphabet: str, **train_args) -> Bundle:
        config = {"dataset": "GlyphLines", "dataset_args": {"alphabet": alphabet}, "model": "ctc",
                  "network": "line_lstm_ctc", "train_args": {"epochs": 1, "batch_size": 8, **train_args}}
        if "init_from" not in train_args:
            config["network_args"] = SMALL
        assert main(["--save", "--nowandb", "--quiet", json.dumps(config)]) == 0, capsys.readouterr().err
        return Bundle(capsys.readouterr().out.split("saved model bundle: ")[1].split("\n")[0])

    first = trained("abc")
    assert first.dataset_version == "glyphs abc" and first.init_from is None
    tuned = trained("bcdé", init_from=str(first.path))
    assert tuned.mapping.to_list() == ["b", "c", "d", "é", " ", PAD, BLANK]
    assert tuned.meta["network_args"] == first.meta["network_args"]  # the config left them out
    assert tuned.dataset_version == "glyphs bcdé"
    assert tuned.init_from == {"path": str(first.path.resolve()), "sha256": sha256_file(first.path / "weights.pt")}
    assert (f"init_from {first.path.resolve()}: kept 5 characters, added ['d', 'é'], dropped ['a']"
            in (tuned.path.parent / "run.log").read_text(encoding="utf-8"))
