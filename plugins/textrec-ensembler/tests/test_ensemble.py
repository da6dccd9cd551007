"""Ensemble bundles: built from saved CTC models, read through ``load_predictor`` (averaged or
voted), round-tripped, and refused clearly when their members are bad."""

from __future__ import annotations

import json

import attrs
import numpy as np
import pytest
import torch

from textrec_core import CharacterMapping, DataShapes, TensorSplit, load_predictor
from textrec_core.bundle import META_FILE
from textrec_core.errors import ArgumentError, BundleError, ConfigError
from textrec_core.mapping import BLANK, PAD
from textrec_ensembler import EnsemblePredictor, build_ensemble
from textrec_ensembler.calibration import calibrated, check_knots
from textrec_ensembler.cli import main
from textrec_ensembler.ensemble import best_path_characters
from textrec_lstm_ctc import LineModelCtc
from textrec_lstm_ctc.network import line_lstm_ctc

MAPPING = CharacterMapping(("a", "b", "c", " ", PAD, BLANK))
NETWORK_ARGS = {"window_width": 8, "window_stride": 4, "conv_channels": 4, "lstm_size": 8, "lstm_layers": 1}


def saved_member(path, seed: int, mapping: CharacterMapping = MAPPING, height: int = 16, **network_args) -> str:
    """An untrained (seeded) LineModelCtc bundle: its readings are arbitrary but fixed."""
    torch.manual_seed(seed)
    shapes = DataShapes((height, 128), (8,), mapping)
    args = {**NETWORK_ARGS, **network_args}
    model = LineModelCtc.for_inference(line_lstm_ctc(shapes, **args), shapes)
    return str(model.save(path, model="LineModelCtc", network="line_lstm_ctc", network_args=args,
                          model_args={"decoder": "greedy"}))


def lines(count: int = 5) -> list[np.ndarray]:
    """Line images of varied widths: dark strokes on white."""
    rng = np.random.default_rng(0)
    images = []
    for i in range(count):
        image = np.full((16, 60 + 17 * i), 255, np.uint8)
        image[4:12, 3:-3][rng.random((8, 54 + 17 * i)) < 0.3] = 0
        images.append(image)
    return images


@pytest.fixture(scope="module")
def members(tmp_path_factory):
    root = tmp_path_factory.mktemp("members")
    return [saved_member(root / str(seed), seed) for seed in (1, 2, 3)]


def test_averaging_equals_the_hand_computed_average_of_the_members_posteriors(members, tmp_path):
    ensemble = build_ensemble(members[:2], tmp_path / "ensemble", combine="average", weights=[1.0, 3.0])
    predictor = load_predictor(ensemble)
    assert isinstance(predictor, EnsemblePredictor)
    images = lines()
    one, two = (load_predictor(m) for m in members[:2])
    batch = one.collate([one.preprocess(image) for image in images])
    (first, lengths), (second, _) = one.model.frame_log_probs(batch), two.model.frame_log_probs(batch)
    average = (0.25 * first.exp() + 0.75 * second.exp()).log()
    expected = []
    for row, frames in zip(average.argmax(dim=-1).tolist(), lengths.tolist()):
        merged = [c for i, c in enumerate(row[:frames]) if i == 0 or c != row[i - 1]]
        expected.append("".join(MAPPING.tokens[c] for c in merged if c != MAPPING.index(BLANK)))
    readings = predictor.read(images)
    assert [r.text for r in readings] == expected
    assert all(0 <= r.confidence <= 1 and 0 <= r.agreement <= 1 and len(r.members) == 2 for r in readings)
    assert [text for text, _ in predictor.predict_batch(images)] == expected


def test_voting_reads_what_two_of_three_members_agree_on(members, tmp_path):
    twin = saved_member(tmp_path / "twin", 2)  # reads exactly as member 1 does
    predictor = load_predictor(build_ensemble([members[0], members[1], twin], tmp_path / "ensemble"))
    readings = predictor.read(lines())
    first, second = ([text for text, _ in load_predictor(m).predict_batch(lines())] for m in members[:2])
    assert [reading.text for reading in readings] == second != first
    assert [[text for text, _ in reading.members] for reading in readings] == [
        [a, b, b] for a, b in zip(first, second)]
    assert all(0 < reading.agreement < 1 for reading in readings)  # member 0 disagrees somewhere on every line
    alone = load_predictor(build_ensemble([members[1], twin], tmp_path / "agreeing"))
    assert all(reading.agreement == 1.0 for reading in alone.read(lines()))


def test_an_ensemble_bundle_embeds_its_members_and_round_trips(members, tmp_path):
    ensemble = build_ensemble(members[:2], tmp_path / "ensemble", combine="average")
    meta = json.loads((ensemble / META_FILE).read_text())
    assert (meta["model"], meta["network"], meta["predictor"]) == ("EnsembleModel", "ensemble", "EnsemblePredictor")
    assert meta["model_args"] == {"combine": "average", "decoder": "greedy", "weights": None}
    assert sorted(p.name for p in (ensemble / "members").iterdir()) == ["0", "1"]
    moved = tmp_path / "moved"
    ensemble.rename(moved)  # members travel inside: nothing points outside the folder
    again = load_predictor(moved).predict_batch(lines())
    assert again == load_predictor(build_ensemble(members[:2], tmp_path / "twin", combine="average")).predict_batch(
        lines())
    beam = load_predictor(moved, model_args={"decoder": "beam"})
    assert all(member.model.decoder == "beam" for member in beam.members)


def test_voting_members_read_each_with_its_own_decoder(members, tmp_path):
    ensemble = build_ensemble(members[:2], tmp_path / "ensemble", decoder=["greedy", "beam"])
    assert json.loads((ensemble / META_FILE).read_text())["model_args"]["decoder"] == ["greedy", "beam"]
    predictor = load_predictor(ensemble)
    assert [member.model.decoder for member in predictor.members] == ["greedy", "beam"]
    expected = [load_predictor(members[0]).predict_batch(lines()),
                load_predictor(members[1], model_args={"decoder": "beam"}).predict_batch(lines())]
    read = [reading.members for reading in predictor.read(lines())]
    assert [[text for text, _ in pair] for pair in read] == [[text for text, _ in pair] for pair in zip(*expected)]
    assert [[confidence for _, confidence in pair] for pair in read] == [
        pytest.approx([confidence for _, confidence in pair], rel=1e-4) for pair in zip(*expected)]
    with pytest.raises(ConfigError, match="decoder: got 3 decoders for 2 members"):
        build_ensemble(members[:2], tmp_path / "three", decoder=["greedy", "beam", "greedy"])
    with pytest.raises(ConfigError, match="decoder: must be a decoder name, or, voting, a list of one per member"):
        build_ensemble(members[:2], tmp_path / "averaged", combine="average", decoder=["greedy", "beam"])
    assert main([str(tmp_path / "cli"), *members[:2], "--decoder", "greedy,beam"]) == 0
    assert json.loads((tmp_path / "cli" / META_FILE).read_text())["model_args"]["decoder"] == ["greedy", "beam"]
    with pytest.raises(SystemExit) as exited:
        main([str(tmp_path / "bad"), *members[:2], "--decoder", "greedy,"])
    assert exited.value.code == 2


def test_best_path_characters_take_each_runs_highest_probability():
    probs = torch.tensor([[[0.7, 0.2, 0.1], [0.6, 0.3, 0.1], [0.1, 0.1, 0.8], [0.2, 0.1, 0.7], [0.1, 0.9, 0.0]]])
    tokens, confidences = best_path_characters(probs.clamp(min=1e-9).log(), None, blank=2)[0]
    assert tokens == [0, 1] and confidences == pytest.approx([0.7, 0.9])
    assert best_path_characters(probs.log(), torch.tensor([2]), blank=2)[0] == ([0], [pytest.approx(0.7)])


def test_bad_member_lists_are_config_errors_naming_the_problem(members, tmp_path):
    with pytest.raises(ConfigError, match="two or more bundles, got 1"):
        build_ensemble(members[:1], tmp_path / "e1")
    with pytest.raises(ConfigError, match=r"members.1: .*missing.*bundle\.json"):
        build_ensemble([members[0], str(tmp_path / "missing")], tmp_path / "e2")
    other = saved_member(tmp_path / "other-alphabet", 4, CharacterMapping(("x", "y", PAD, BLANK)))
    with pytest.raises(ConfigError, match="combine: average needs one alphabet"):
        build_ensemble([members[0], other], tmp_path / "e3", combine="average")
    build_ensemble([members[0], other], tmp_path / "e4", combine="vote")  # voting takes any members
    taller = saved_member(tmp_path / "taller", 5, height=24)
    with pytest.raises(ConfigError, match="one input height and framing"):
        build_ensemble([members[0], taller], tmp_path / "e5", combine="average")
    finer = saved_member(tmp_path / "finer", 6, window_stride=2)
    with pytest.raises(ConfigError, match="the same frames per width"):
        build_ensemble([members[0], finer], tmp_path / "e6", combine="average")
    with pytest.raises(ConfigError, match="weights: got 3 weights for 2 members"):
        build_ensemble(members[:2], tmp_path / "e7", weights=[1, 1, 1])
    with pytest.raises(ConfigError, match="combine: must be one of average, vote"):
        build_ensemble(members[:2], tmp_path / "e8", combine="mean")
    assert not any(p.name.startswith(("e1", "e2", "e3", "e5", "e6", "e7", "e8", ".e")) for p in tmp_path.iterdir())


def test_the_command_writes_the_bundle_and_exits_2_on_bad_input(members, tmp_path, capsys):
    out = tmp_path / "ensemble"
    assert main([str(out), *members[:2], "--combine", "average"]) == 0
    assert "ensemble of 2 (average)" in capsys.readouterr().out
    assert main([str(out), *members[:2]]) == 2
    assert "exists" in capsys.readouterr().err
    assert main([str(tmp_path / "new"), members[0], str(tmp_path / "nowhere")]) == 2
    assert "members.1" in capsys.readouterr().err and not (tmp_path / "new").exists()


@attrs.frozen
class ValidationOnly:
    """A prepared dataset of which calibration reads only ``shapes`` and ``val``."""

    shapes: DataShapes
    val: TensorSplit


def validation_lines(texts: list[str]) -> ValidationOnly:
    drawn = lines(len(texts))
    images = np.zeros((len(texts), 16, max(image.shape[1] for image in drawn)), np.uint8)
    for row, image in enumerate(drawn):
        images[row, :, : image.shape[1]] = 255 - image  # bright ink on dark, as splits serve lines
    labels = torch.full((len(texts), 8), MAPPING.index("<pad>"), dtype=torch.long)
    for row, text in enumerate(texts):
        labels[row, : len(text)] = torch.tensor([MAPPING.index(c) for c in text])
    return ValidationOnly(DataShapes((16, 128), (8,), MAPPING), TensorSplit(torch.from_numpy(images), labels))


def test_a_bundle_calibrated_on_a_validation_split_reads_calibrated_confidences(tmp_path):
    members = [saved_member(tmp_path / str(seed), seed) for seed in (1, 2)]
    data = validation_lines(["abc", "a b", "cab", "b", "ccc", "ab", "ba", "c a"])
    ensemble = build_ensemble(members, tmp_path / "calibrated", calibrate_on=data, progress=False)
    model_args = json.loads((ensemble / META_FILE).read_text())["model_args"]
    check_knots(model_args["calibration"])
    assert len(model_args["member_calibration"]) == 2
    for knots in model_args["member_calibration"]:
        check_knots(knots)
    # the vote as the member calibration makes it, then the line calibration on its confidence
    voted = load_predictor(build_ensemble(members, tmp_path / "raw", progress=False),
                           model_args={"member_calibration": model_args["member_calibration"]})
    images = lines()
    expected = [(line.text, calibrated(model_args["calibration"], line.confidence)) for line in voted.read(images)]
    assert [(line.text, line.confidence) for line in load_predictor(ensemble).read(images)] == expected
    assert sorted(p.name for p in tmp_path.iterdir()) == ["1", "2", "calibrated", "raw"]  # no staging left
    averaged = build_ensemble(members, tmp_path / "averaged", combine="average", calibrate_on=data, progress=False)
    assert "member_calibration" not in json.loads((averaged / META_FILE).read_text())["model_args"]


def test_member_calibration_decides_whose_characters_win_the_vote(members, tmp_path):
    ensemble = build_ensemble(members[:2], tmp_path / "ensemble")
    texts = [[text for text, _ in load_predictor(m).predict_batch(lines())] for m in members[:2]]
    assert texts[0] != texts[1]
    never, always = [[0.0, 0.01], [1.0, 0.01]], [[0.0, 1.0], [1.0, 1.0]]
    for favoured, knots in ((0, [always, never]), (1, [never, always])):
        voted = load_predictor(ensemble, model_args={"member_calibration": knots}).read(lines())
        assert [line.text for line in voted] == texts[favoured]


def test_bad_member_calibrations_are_refused(members, tmp_path):
    ensemble = build_ensemble(members[:2], tmp_path / "ensemble")
    with pytest.raises(BundleError, match="2 members but 1 member calibrations"):
        load_predictor(ensemble, model_args={"member_calibration": [[[0.0, 0.5]]]})
    with pytest.raises(ArgumentError, match="member_calibration: member 1: raw confidences must increase"):
        load_predictor(ensemble, model_args={"member_calibration": [[[0.0, 0.5]], [[0.5, 0.1], [0.4, 0.2]]]})
    with pytest.raises(ArgumentError, match="only for vote"):
        load_predictor(ensemble, model_args={"combine": "average", "member_calibration": [[[0.0, 0.5]]] * 2})


def test_the_command_refuses_a_bad_calibration_dataset(tmp_path, capsys):
    members = [saved_member(tmp_path / str(seed), seed) for seed in (1, 2)]
    out = tmp_path / "ensemble"
    assert main([str(out), *members, "--calibrate", '{"dataset": "no_such_dataset"}']) == 2
    assert "no_such_dataset" in capsys.readouterr().err and not out.exists()
    assert main([str(out), *members, "--calibrate", "{not json"]) == 2
    assert "DATA" in capsys.readouterr().err and not out.exists()
