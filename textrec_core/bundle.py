"""Model bundles: self-describing directories holding weights, config, mapping and metrics.

Layout::

    bundle.json   format, version, model/network/predictor names, network_args, model_args,
                  shapes, mapping, config, metrics; from ``textrec-run`` also
                  ``dataset_version`` (the training dataset's ``version``, or null) and
                  ``init_from`` (``{"path", "sha256"}`` of the bundle it was fine-tuned from and
                  of that bundle's weights file, or null) and, when it saves,
                  ``reference_statistics`` (how the training data looked: each drift signal's
                  reference histogram, :mod:`textrec_core.services.drift`)
    weights.pt    the network's state_dict (``torch.save``; read with ``weights_only=True``)

Version 2 always records ``model_args``, so a bundle decodes the way its model was configured.
Version 1 bundles are read too, taking the model arguments from their ``config``; one with
neither is refused rather than decoded with default arguments.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

from textrec_core.errors import BundleError
from textrec_core.mapping import CharacterMapping
from textrec_core.protocols import DataShapes
from textrec_core.services.drift import Histogram, statistics_from_json
from textrec_core.services.fileio import make_public

FORMAT = "textrec-bundle"
VERSION = 2
READABLE_VERSIONS = (1, 2)
META_FILE = "bundle.json"
WEIGHTS_FILE = "weights.pt"
#: Hex digits of a bundle's :meth:`Bundle.digest`.
DIGEST_CHARS = 16
REQUIRED_KEYS = ("model", "network", "network_args", "model_args", "predictor", "shapes", "mapping")
#: Version 1 kept the model arguments only inside ``config``.
V1_REQUIRED_KEYS = tuple(key for key in REQUIRED_KEYS if key != "model_args")


def write_bundle(path: Path, module: torch.nn.Module, meta: dict[str, Any]) -> Path:
    """Write a bundle atomically: into a temporary sibling directory, then renamed to ``path``.

    An existing bundle at ``path`` is replaced only once the new one is complete.
    """
    missing = [key for key in REQUIRED_KEYS if key not in meta]
    if missing:
        raise BundleError(f"bundle metadata lacks {', '.join(missing)}")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", dir=path.parent))
    make_public(tmp)
    old: Path | None = None
    try:
        state = {k: v.detach().cpu() for k, v in module.state_dict().items()}
        torch.save(state, tmp / WEIGHTS_FILE)
        document = {"format": FORMAT, "version": VERSION, **meta}
        (tmp / META_FILE).write_text(json.dumps(document, indent=2, default=str), encoding="utf-8")
        if path.exists():  # moved aside, not deleted, until the new bundle is in place
            old = Path(tempfile.mkdtemp(prefix=f".{path.name}.old.", dir=path.parent))
            os.replace(path, old / path.name)
        os.replace(tmp, path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        if old is not None and not path.exists():
            os.replace(old / path.name, path)
        raise
    finally:
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    return path


class Bundle:
    """A saved model read back from disk. Raises :class:`BundleError` when unreadable."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        meta_path = self.path / META_FILE
        if not meta_path.is_file():
            raise BundleError(f"{self.path} is not a textrec model bundle (no {META_FILE})")
        try:
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise BundleError(f"{meta_path} is not valid JSON: {exc}") from None
        if not isinstance(meta, dict) or meta.get("format") != FORMAT:
            raise BundleError(f"{meta_path} is not a {FORMAT} file")
        version = meta.get("version")
        if isinstance(version, bool) or not isinstance(version, int) or version not in READABLE_VERSIONS:
            raise BundleError(f"{meta_path} has bundle version {meta.get('version')!r}; "
                              f"this textrec reads versions {', '.join(map(str, READABLE_VERSIONS))}")
        missing = [key for key in (REQUIRED_KEYS if meta["version"] >= 2 else V1_REQUIRED_KEYS) if key not in meta]
        if missing:
            raise BundleError(f"{meta_path} lacks {', '.join(missing)}")
        self.meta: dict[str, Any] = meta

    @property
    def model_args(self) -> dict[str, Any]:
        """The keyword arguments the saved model was built with."""
        if "model_args" in self.meta:
            return dict(self.meta["model_args"])
        config = self.meta.get("config")
        if isinstance(config, dict) and isinstance(config.get("model_args"), dict):
            return dict(config["model_args"])
        raise BundleError(f"{self.path} records neither model_args nor a config with them: re-save it with this "
                          "textrec to decode it as it was trained")

    @property
    def mapping(self) -> CharacterMapping:
        return CharacterMapping(self.meta["mapping"])

    @property
    def shapes(self) -> DataShapes:
        s = self.meta["shapes"]
        return DataShapes(tuple(s["input_shape"]), tuple(s["output_shape"]), self.mapping, s.get("ink_margin"))

    @property
    def metrics(self) -> dict[str, float]:
        return dict(self.meta.get("metrics", {}))

    @property
    def dataset_version(self) -> str | None:
        """The ``version`` of the dataset the model was trained on; None when it had none (or the
        bundle does not say)."""
        return self.meta.get("dataset_version")

    @property
    def init_from(self) -> dict[str, str] | None:
        """``{"path": ..., "sha256": ...}`` of the bundle this one was fine-tuned from (the SHA-256
        of its weights file); None when it was trained from fresh weights (or does not say)."""
        origin = self.meta.get("init_from")
        return dict(origin) if origin is not None else None

    @property
    def reference_statistics(self) -> dict[str, Histogram] | None:
        """Each drift signal's reference histogram (:mod:`textrec_core.services.drift`), None when
        the bundle records none (saved before textrec recorded them, or by another tool);
        :class:`BundleError` when they are malformed."""
        value = self.meta.get("reference_statistics")
        if value is None:
            return None
        try:
            return statistics_from_json(value)
        except ValueError as exc:
            raise BundleError(f"{self.path / META_FILE}: reference_statistics: {exc}") from None

    def digest(self) -> str:
        """What identifies this bundle's contents in answers, logs and labeling tasks: the first
        :data:`DIGEST_CHARS` hex digits of the SHA-256 of ``bundle.json``, then ``weights.pt``, then
        every other file under the bundle's folder (an ensemble's members) in path order."""
        digest = hashlib.sha256()
        others = sorted(p for p in self.path.rglob("*") if p.is_file() and p.parent != self.path)
        for path in [self.path / META_FILE, self.path / WEIGHTS_FILE, *others]:
            if path.is_file():
                with path.open("rb") as file:
                    while block := file.read(1 << 20):
                        digest.update(block)
        return digest.hexdigest()[:DIGEST_CHARS]

    def state_dict(self) -> dict[str, torch.Tensor]:
        weights = self.path / WEIGHTS_FILE
        if not weights.is_file():
            raise BundleError(f"{self.path} has no {WEIGHTS_FILE}")
        try:
            return torch.load(weights, map_location="cpu", weights_only=True)
        except Exception as exc:  # torch raises several types for corrupt or foreign files
            raise BundleError(f"cannot read weights {weights}: {exc}") from None

    def build_network(self, factory: Callable[..., torch.nn.Module]) -> torch.nn.Module:
        """The bundle's network rebuilt by ``factory`` (its registered network factory), weights
        loaded, in eval mode."""
        module = factory(self.shapes, **self.meta["network_args"])
        try:
            module.load_state_dict(self.state_dict())
        except RuntimeError as exc:
            raise BundleError(f"weights in {self.path} do not fit network {self.meta['network']!r}: {exc}") from None
        return module.eval()


def shapes_to_dict(shapes: DataShapes) -> dict[str, Any]:
    """The shapes as bundle metadata (the mapping is stored beside them, under ``mapping``)."""
    return {"input_shape": list(shapes.input_shape), "output_shape": list(shapes.output_shape),
            "num_classes": shapes.num_classes, "ink_margin": shapes.ink_margin}
