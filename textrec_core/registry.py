"""Name -> factory registries, one per component kind (fvcore's ``Registry`` in spirit)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import attrs

from textrec_core.errors import DuplicateComponentError, UnknownComponentError

#: Components provided by the project's own plugins, names and aliases -> distribution, for
#: install hints; tests/test_install_hints.py checks it against the plugins' real registrations.
KNOWN_PROVIDERS: dict[str, str] = {
    "EmnistDataset": "textrec-emnist",
    "emnist": "textrec-emnist",
    "SyntheticCharactersDataset": "textrec-hershey",
    "synthetic": "textrec-hershey",
    "mlp": "textrec-mlp",
    "lenet": "textrec-lenet",
    "CharacterModel": "textrec-character",
    "character": "textrec-character",
    "CharacterPredictor": "textrec-character",
    "EmnistLinesDataset": "textrec-emnist-lines",
    "emnist_lines": "textrec-emnist-lines",
    "line_cnn_time_distributed": "textrec-line-cnn",
    "line_cnn_all_conv": "textrec-line-cnn",
    "LineModel": "textrec-line-cnn",
    "line": "textrec-line-cnn",
    "line_lstm_ctc": "textrec-lstm-ctc",
    "LineModelCtc": "textrec-lstm-ctc",
    "ctc": "textrec-lstm-ctc",
    "line_attention": "textrec-attention",
    "LineModelAttention": "textrec-attention",
    "attention": "textrec-attention",
    "LinePredictor": "textrec-lines",
    **{name: "textrec-augment" for name in ("random_affine", "elastic", "perspective", "width_stretch", "ink_thickness",
                                            "blur", "paper_noise", "contrast", "random_erasing")},
    "IamOnDbDataset": "textrec-iam-ondb",
    "iam_ondb": "textrec-iam-ondb",
    "IamLinesDataset": "textrec-iam",
    "iam_lines": "textrec-iam",
    "ensemble": "textrec-ensembler",
    "EnsembleModel": "textrec-ensembler",
    "EnsemblePredictor": "textrec-ensembler",
}


@attrs.frozen
class Entry:
    """One registered component: its canonical name, the object, its aliases and provider, and
    (networks) the ``train_args`` its recipe sets where a config leaves them out."""

    name: str
    obj: Any
    provider: str
    aliases: tuple[str, ...] = ()
    summary: str = ""
    train_defaults: Mapping[str, Any] = attrs.field(factory=dict)


class Registry:
    """Maps names and aliases of one kind of component to :class:`Entry` objects.

    A name or alias may be registered once; a second registration raises
    :class:`DuplicateComponentError` naming both providers.
    """

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._entries: dict[str, Entry] = {}
        self._lookup: dict[str, Entry] = {}

    def register(
        self, name: str, obj: Any, *, provider: str, aliases: tuple[str, ...] = (), summary: str = "",
        train_defaults: Mapping[str, Any] | None = None,
    ) -> None:
        entry = Entry(name, obj, provider, tuple(aliases), summary or _first_line(obj.__doc__),
                      dict(train_defaults or {}))
        for key in (name, *entry.aliases):
            if key in self._lookup:
                other = self._lookup[key]
                raise DuplicateComponentError(
                    f"{self.kind} {key!r} is registered by both {other.provider} and {provider}; "
                    f"uninstall one of them or restrict loading with TEXTREC_PLUGINS"
                )
        self._entries[name] = entry
        for key in (name, *entry.aliases):
            self._lookup[key] = entry

    def get(self, name: str) -> Entry:
        """The entry registered under ``name`` or one of its aliases.

        Raises :class:`UnknownComponentError` listing the available names and, when a known
        plugin provides ``name``, the ``pip install`` line for it.
        """
        try:
            return self._lookup[name]
        except KeyError:
            pass
        available = ", ".join(sorted(self._entries)) or "none (no plugin providing one is installed)"
        message = f"unknown {self.kind} {name!r}. Available {self.kind}s: {available}."
        if name in KNOWN_PROVIDERS:
            dist = KNOWN_PROVIDERS[name]
            message += (
                f" {name!r} is provided by the plugin {dist}: install it with "
                f"`pip install -c constraints.txt ./plugins/{dist}` from a textrec checkout."
            )
        raise UnknownComponentError(message)

    def __contains__(self, name: str) -> bool:
        return name in self._lookup

    def __iter__(self) -> Iterator[Entry]:
        return iter(sorted(self._entries.values(), key=lambda e: e.name))

    def __len__(self) -> int:
        return len(self._entries)


def _first_line(doc: str | None) -> str:
    return (doc or "").strip().split("\n", 1)[0]
