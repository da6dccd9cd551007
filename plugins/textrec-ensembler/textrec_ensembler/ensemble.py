"""Ensembles of saved line models, saved as a bundle that embeds its members' bundles.

Layout of an ensemble bundle: an ordinary textrec bundle (``bundle.json``, ``weights.pt``) of model
``EnsembleModel``, network ``ensemble`` and predictor ``EnsemblePredictor``, whose ``members/0``,
``members/1``, ... are the members' own bundles, copied whole. ``load_predictor`` on it gives an
:class:`EnsemblePredictor`, which loads each member's own predictor (with the ensemble's
``decoder``: one name for every member, or, voting, a list of one per member) and combines their
readings of each image:

- ``combine: "average"``: the members' per-frame CTC posteriors are averaged (weighted) and read
  once with the first member's decoder. Members must read alike: CTC models (``frame_log_probs``)
  with the same alphabet, the same input height and framing, and the same frames for every width.
- ``combine: "vote"``: each member reads the line itself; the readings are aligned and voted
  (:func:`textrec_ensembler.voting.vote`), each character weighted by its member's confidence in
  it (the member's line confidence spread evenly: its ``n``-th root over ``n`` characters).
  Members may differ in everything (a CTC model with an attention model).

The ensemble's raw confidence in a line is the mean confidence of its voted characters (average:
the reading's own confidence). A bundle built with a calibration split maps it through the stored
``calibration`` knots to the expected character accuracy (:mod:`textrec_ensembler.calibration`);
a voting one also maps each member's character confidences through that member's
``member_calibration`` knots before the vote, so that the members vote on one scale.
The ``agreement`` (the fraction of aligned segments on which every member proposes the same text)
is what :meth:`EnsemblePredictor.read` adds per line.
"""

from __future__ import annotations

import inspect
import math
import os
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import attrs
import numpy as np
import torch

from textrec_core.bundle import META_FILE, Bundle, write_bundle
from textrec_core.components import Components
from textrec_core.errors import ArgumentError, BundleError, ConfigError, TextrecError
from textrec_core.model import TorchModel
from textrec_core.plugins import components as installed_components
from textrec_core.predictor import Predictor, load_predictor
from textrec_core.protocols import Dataset, DataShapes
from textrec_core.services.fileio import write_json
from textrec_core.services.images import ImageInput
from textrec_ensembler.calibration import Knots, calibrated, check_knots, fit, fit_characters
from textrec_ensembler.voting import Reading, vote

COMBINES = ("average", "vote")
MEMBERS_DIR = "members"
#: Widths (pixels) at which averaged members must give the same number of frames.
PROBE_WIDTHS = (64, 333, 1000)
#: The smallest character confidence voting takes: a line read with confidence 0 still votes, barely.
MIN_CONFIDENCE = 1e-6


class EnsembleNetwork(torch.nn.Module):
    """The ensemble's own network: it holds no weights (the members' are in their bundles)."""

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        raise TextrecError("an ensemble reads through its predictor: load_predictor(ensemble_bundle)")


def ensemble(shapes: DataShapes) -> EnsembleNetwork:
    """The ``ensemble`` network factory (bundles only; nothing to train)."""
    return EnsembleNetwork()


class EnsembleModel(TorchModel):
    """How an ensemble combines its members: ``combine`` ("average" or "vote"), the ``decoder``
    each member (or, averaging, the average) is read with (voting, also a list of one decoder per
    member, for members read best in different ways), the members' ``weights`` (default:
    equal), the confidence's ``calibration`` knots (default: none, the raw confidence) and, voting,
    the knots of each member's character confidences (``member_calibration``, default: none). Built
    from saved bundles with :func:`build_ensemble`, never trained."""

    predictor = "EnsemblePredictor"
    variable_width = True

    def __init__(self, dataset: Any, network: torch.nn.Module, combine: str = "vote",
                 decoder: str | list[str] = "greedy", weights: list[float] | None = None,
                 calibration: Knots | None = None,
                 member_calibration: list[Knots] | None = None) -> None:
        check_model_args(combine, decoder, weights, calibration, member_calibration)
        super().__init__(dataset, network)
        self.combine, self.decoder, self.weights, self.calibration = combine, decoder, weights, calibration
        self.member_calibration = member_calibration

    def fit(self, train_args: Any, **kwargs: Any) -> dict[str, list[float]]:
        raise TextrecError("an ensemble is built from saved bundles (textrec-ensemble), not trained")

    def predict(self, images: torch.Tensor) -> list[tuple[str, float]]:
        raise TextrecError("an ensemble reads images through its predictor: load_predictor(ensemble_bundle)")


def check_model_args(combine: str, decoder: str | list[str], weights: list[float] | None,
                     calibration: Knots | None = None, member_calibration: list[Knots] | None = None) -> None:
    """Raise :class:`ArgumentError` naming the first bad one of an ensemble's model arguments."""
    if combine not in COMBINES:
        raise ArgumentError("combine", f"must be one of {', '.join(COMBINES)}, got {combine!r}")
    if isinstance(decoder, list):
        if combine != "vote" or not decoder or not all(isinstance(name, str) and name for name in decoder):
            raise ArgumentError("decoder", f"must be a decoder name, or, voting, a list of one per member, "
                                           f"got {decoder!r} with {combine}")
    elif not isinstance(decoder, str) or not decoder:
        raise ArgumentError("decoder", f"must be a decoder name, got {decoder!r}")
    if weights is not None and (not isinstance(weights, list) or not all(
            isinstance(w, (int, float)) and not isinstance(w, bool) and math.isfinite(w) and w > 0 for w in weights)):
        raise ArgumentError("weights", f"must be a list of positive numbers, one per member, got {weights!r}")
    if calibration is not None:
        check_knots(calibration)
    if member_calibration is not None:
        if combine != "vote" or not isinstance(member_calibration, list):
            raise ArgumentError("member_calibration", "must be a list of knots, one per member, and only for vote, "
                                                      f"got {member_calibration!r} with {combine}")
        for index, knots in enumerate(member_calibration):
            try:
                check_knots(knots)
            except ArgumentError as exc:
                raise ArgumentError("member_calibration", f"member {index}: {exc.problem}") from None


@attrs.frozen
class EnsembleReading:
    """One line read by an ensemble: the text, its confidence, and how much the members agree."""

    text: str
    confidence: float
    agreement: float
    members: tuple[tuple[str, float], ...]


class EnsemblePredictor:
    """Reads images with every member of an ensemble bundle and combines their readings."""

    def __init__(self, model: EnsembleModel, bundle: Bundle, components: Components | None = None) -> None:
        self.model = model
        self.bundle = bundle
        paths = member_dirs(Path(bundle.path))
        count = len(paths)
        try:
            self.decoders = member_decoders(model.decoder, count)
        except ConfigError as exc:
            raise BundleError(f"{bundle.path}: {exc.problem}") from None
        table = components if components is not None else installed_components()
        self.members = [load_member(path, decoder, table) for path, decoder in zip(paths, self.decoders)]
        self.weights = list(model.weights) if model.weights is not None else [1.0] * count
        if len(self.weights) != count:
            raise BundleError(f"{bundle.path} has {count} members but {len(self.weights)} weights")
        if model.combine == "average":
            check_averageable(self.members)
        if model.member_calibration is not None and len(model.member_calibration) != count:
            raise BundleError(f"{bundle.path} has {count} members but {len(model.member_calibration)} member "
                              "calibrations")
        #: Per member, its character calibration's raw and calibrated knot values (None: raw confidences).
        self.member_maps = None if model.member_calibration is None else [
            (np.array([raw for raw, _ in knots]), np.array([value for _, value in knots]))
            for knots in model.member_calibration]

    def read(self, images: Sequence[ImageInput]) -> list[EnsembleReading]:
        """Each image's :class:`EnsembleReading`, its confidence calibrated where the bundle says how."""
        if not images:
            return []
        if self.model.combine == "average":
            lines = self._average(images)
        else:
            lines = [self._vote(line) for line in zip(*self._member_lines(images))]
        knots = self.model.calibration
        return lines if knots is None else [attrs.evolve(line, confidence=calibrated(knots, line.confidence))
                                            for line in lines]

    def predict_batch(self, images: list[ImageInput]) -> list[tuple[str, float]]:
        return [(reading.text, reading.confidence) for reading in self.read(images)]

    def predict(self, image: ImageInput) -> tuple[str, float]:
        return self.predict_batch([image])[0]

    def _average(self, images: Sequence[ImageInput]) -> list[EnsembleReading]:
        first = self.members[0]
        batch = first.collate([first.preprocess(image) for image in images])
        total = math.fsum(self.weights)
        probs, lengths, member_lines = None, None, []
        for member, weight in zip(self.members, self.weights):
            log_probs, lengths = member.model.frame_log_probs(batch)
            member_lines.append(member.model.decode_frames(log_probs, lengths))
            part = log_probs.exp() * (weight / total)
            probs = part if probs is None else probs + part
        averaged = first.model.decode_frames(probs.clamp(min=1e-12).log(), lengths)
        return [EnsembleReading(text, confidence, agreement(lines), tuple(lines))
                for (text, confidence), lines in zip(averaged, zip(*member_lines))]

    def member_reads(self, images: list[np.ndarray]) -> list[list[Reading]]:
        """Per member, per image, the member's :class:`Reading` as voting takes it, before any member
        calibration (what :func:`~textrec_ensembler.calibration.fit_characters` fits)."""
        return [[reading for _, reading in lines] for lines in self._member_lines(images)]

    def _member_lines(self, images: Sequence[ImageInput]) -> list[list[tuple[tuple[str, float], Reading]]]:
        """Per member, :func:`member_readings` of ``images`` with its decoder."""
        return [member_readings(member, images, decoder) for member, decoder in zip(self.members, self.decoders)]

    def _vote(self, lines: Sequence[tuple[tuple[str, float], Reading]]) -> EnsembleReading:
        readings = [reading for _, reading in lines]
        if self.member_maps is not None:  # the knots' linear interpolation, as calibration.calibrated
            readings = [Reading(reading.text, tuple(np.maximum(MIN_CONFIDENCE, np.interp(reading.confidences, *knots))
                                                    .tolist()))
                        for reading, knots in zip(readings, self.member_maps)]
        voted = vote(readings, self.weights)
        confidence = math.fsum(voted.confidences) / len(voted.confidences) if voted.confidences else voted.agreement
        return EnsembleReading(voted.text, confidence, voted.agreement, tuple(line for line, _ in lines))


def member_readings(member: Predictor, images: Sequence[ImageInput],
                    decoder: str) -> list[tuple[tuple[str, float], Reading]]:
    """Per image, the member's ``(text, confidence)`` and its :class:`Reading` with a confidence per
    character: for a CTC model read greedily, the highest probability each character's frames give
    it (its best path); otherwise the line's confidence spread evenly (:func:`as_reading`)."""
    model = member.model
    if decoder != "greedy" or not hasattr(model, "frame_log_probs"):
        return [(line, as_reading(*line)) for line in member.predict_batch(list(images))]
    log_probs, lengths = model.frame_log_probs(member.collate([member.preprocess(image) for image in images]))
    lines = model.decode_frames(log_probs, lengths)
    paths = best_path_characters(log_probs, lengths, model.blank_index)
    readings = []
    for line, (tokens, confidences) in zip(lines, paths):
        kept = [(model.mapping.tokens[t], c) for t, c in zip(tokens, confidences) if len(model.mapping.tokens[t]) == 1]
        readings.append((line, Reading("".join(t for t, _ in kept),
                                       tuple(min(1.0, max(c, MIN_CONFIDENCE)) for _, c in kept))))
    return readings


def best_path_characters(log_probs: torch.Tensor, lengths: torch.Tensor | None,
                         blank: int) -> list[tuple[list[int], list[float]]]:
    """Per line of ``log_probs`` ``(B, T, C)`` (its first ``lengths`` frames): the best path's
    tokens (the argmax of every frame, runs merged, blanks dropped) and each token's confidence,
    the highest probability any frame of its run gives it."""
    best, classes = log_probs.max(dim=-1)
    best = best.exp()
    result = []
    for row in range(log_probs.shape[0]):
        frames = int(lengths[row]) if lengths is not None else log_probs.shape[1]
        tokens: list[int] = []
        confidences: list[float] = []
        previous = None
        for cls, probability in zip(classes[row, :frames].tolist(), best[row, :frames].tolist()):
            if cls != previous and cls != blank:
                tokens.append(cls)
                confidences.append(probability)
            elif cls == previous and cls != blank:
                confidences[-1] = max(confidences[-1], probability)
            previous = cls
        result.append((tokens, confidences))
    return result


def as_reading(text: str, confidence: float) -> Reading:
    """A member's line reading with its confidence spread evenly over its characters."""
    share = max(confidence, MIN_CONFIDENCE) ** (1 / len(text)) if text else 1.0
    return Reading(text, (min(1.0, max(share, MIN_CONFIDENCE)),) * len(text))


def agreement(lines: Sequence[tuple[str, float]]) -> float:
    """How much the members' readings of a line agree: the voting alignment's agreement."""
    return vote([as_reading(text, confidence) for text, confidence in lines]).agreement


def member_dirs(path: Path) -> list[Path]:
    """An ensemble bundle's member bundles, in order."""
    folder = path / MEMBERS_DIR
    names = sorted((p.name for p in folder.iterdir() if p.is_dir() and p.name.isdigit()), key=int) \
        if folder.is_dir() else []
    if len(names) < 2:
        raise BundleError(f"{path} is an ensemble bundle without two members in {MEMBERS_DIR}/")
    return [folder / name for name in names]


def load_member(path: Path | str, decoder: str, table: Components) -> Predictor:
    """The predictor of the bundle at ``path``, reading with ``decoder`` where its model has a
    ``decoder`` argument (a model without one reads its own way)."""
    model = table.get("model", Bundle(path).meta["model"])
    has_decoder = "decoder" in inspect.signature(model).parameters
    return load_predictor(path, table, model_args={"decoder": decoder} if has_decoder else None)


def member_decoders(decoder: str | list[str], count: int) -> list[str]:
    """The decoder of each of ``count`` members: ``decoder`` for all, or its list, which must hold one per
    member (:class:`ConfigError` at ``decoder``)."""
    if isinstance(decoder, str):
        return [decoder] * count
    if len(decoder) != count:
        raise ConfigError("decoder", f"got {len(decoder)} decoders for {count} members")
    return list(decoder)


def check_averageable(members: Sequence[Predictor]) -> None:
    """Raise :class:`ConfigError` (at ``combine``) unless the members' CTC posteriors can be averaged."""
    first = members[0]
    for index, member in enumerate(members):
        where = f"member {index} ({member.bundle.path})"
        if not hasattr(member.model, "frame_log_probs"):
            raise ConfigError("combine", f"average needs CTC models; {where} is a {type(member.model).__name__}: "
                                         "combine it by vote")
        if member.bundle.shapes.mapping != first.bundle.shapes.mapping:
            raise ConfigError("combine", f"average needs one alphabet; {where} reads another: combine it by vote")
        if (member.bundle.shapes.input_shape[0], member.bundle.shapes.ink_margin) != (
                first.bundle.shapes.input_shape[0], first.bundle.shapes.ink_margin):
            raise ConfigError("combine", f"average needs one input height and framing; {where} differs: "
                                         "combine it by vote")
        frames = [frame_count(member, width) for width in PROBE_WIDTHS]
        if frames != [frame_count(first, width) for width in PROBE_WIDTHS]:
            raise ConfigError("combine", f"average needs the same frames per width; {where} gives {frames} for "
                                         f"widths {list(PROBE_WIDTHS)}: combine it by vote")


def frame_count(member: Predictor, width: int) -> int:
    """How many frames the member's network gives a blank image ``width`` pixels wide."""
    with torch.inference_mode():
        return int(member.model.network(torch.zeros(1, member.bundle.shapes.input_shape[0], width)).shape[1])


def build_ensemble(members: Sequence[Path | str], out: Path | str, *, combine: str = "vote",
                   decoder: str | Sequence[str] = "greedy", weights: Sequence[float] | None = None,
                   calibrate_on: Dataset | None = None, components: Components | None = None,
                   progress: bool = True) -> Path:
    """Write the ensemble bundle of the bundles ``members`` (two or more) at ``out``, atomically.

    Every member is loaded first: an unreadable one is a :class:`ConfigError` at ``members.<i>``;
    members that cannot be combined as asked, at ``combine``; bad arguments, at their names. ``out``
    must not exist yet. With ``calibrate_on`` (a prepared dataset), the ensemble reads its
    validation split and stores the calibration of its confidence (:func:`~textrec_ensembler.
    calibration.fit`); a voting ensemble first stores each member's character calibration
    (:func:`~textrec_ensembler.calibration.fit_characters`), so that its confidence is calibrated as
    the vote then reads.
    """
    out = Path(out)
    if len(members) < 2:
        raise ConfigError("members", f"an ensemble needs two or more bundles, got {len(members)}")
    if out.exists():
        raise ConfigError("out", f"{str(out)!r} exists; choose a new folder for the ensemble")
    decoder = decoder if isinstance(decoder, str) else list(decoder)
    model_args = {"combine": combine, "decoder": decoder, "weights": list(weights) if weights is not None else None}
    try:
        check_model_args(**model_args)
    except ArgumentError as exc:
        raise ConfigError(exc.argument, exc.problem) from None
    table = components if components is not None else installed_components()
    loaded = []
    for index, (member, member_decoder) in enumerate(zip(members, member_decoders(decoder, len(members)))):
        try:
            loaded.append(load_member(member, member_decoder, table))
        except ArgumentError as exc:
            raise ConfigError(f"members.{index}", f"{member}: {exc.argument}: {exc.problem}") from None
        except TextrecError as exc:
            raise ConfigError(f"members.{index}", f"{member}: {exc}") from None
    if weights is not None and len(weights) != len(members):
        raise ConfigError("weights", f"got {len(weights)} weights for {len(members)} members")
    if combine == "average":
        check_averageable(loaded)
    first = loaded[0].bundle
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        meta = {"model": "EnsembleModel", "network": "ensemble", "network_args": {}, "model_args": model_args,
                "predictor": EnsembleModel.predictor,
                "shapes": first.meta["shapes"], "mapping": first.meta["mapping"],
                "members": [str(Path(m).resolve()) for m in members]}
        bundle = write_bundle(staging / "bundle", EnsembleNetwork(), meta)
        for index, member in enumerate(members):
            shutil.copytree(member, bundle / MEMBERS_DIR / str(index))
        if calibrate_on is not None and combine == "vote":
            model_args["member_calibration"] = fit_characters(
                load_predictor(bundle, table).member_reads, calibrate_on.val, calibrate_on.shapes.mapping,
                progress=progress)
            write_json(bundle / META_FILE, {**Bundle(bundle).meta, "model_args": model_args})
        if calibrate_on is not None:
            model_args["calibration"] = fit(load_predictor(bundle, table), calibrate_on.val,
                                            calibrate_on.shapes.mapping, progress=progress)
            write_json(bundle / META_FILE, {**Bundle(bundle).meta, "model_args": model_args})
        os.replace(bundle, out)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return out

