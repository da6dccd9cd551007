"""``Settings``: the service's limits and switches, with safe defaults.

Every field can be set by an environment variable ``TEXTREC_WEB_<FIELD>`` (``max_request_bytes``
is ``TEXTREC_WEB_MAX_REQUEST_BYTES``) and by the ``textrec-serve`` option ``--<field>`` with
dashes; an option overrides the variable, which overrides the default. Values are written the
same way in both places: integers and seconds as numbers, booleans as ``1/true/yes/on`` or
``0/false/no/off``, host lists comma-separated, folders as paths (empty: unset).
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Mapping
from typing import Any

from textrec_core.errors import TextrecError

ENV_PREFIX = "TEXTREC_WEB_"
MIB = 1024 * 1024
#: The smallest drift window: with fewer values a PSI is mostly sampling noise.
MIN_DRIFT_WINDOW = 10
#: Settings that name a folder.
FOLDERS = ("corrections_dir", "low_confidence_dir")


class SettingsError(TextrecError):
    """A setting has an invalid value; the message names the variable or field."""


def _setting(default: Any, metavar: str, help: str) -> Any:
    """A settings field: its default, and the value's name and help text in ``textrec-serve --help``."""
    return dataclasses.field(default=default, metadata={"metavar": metavar, "help": help})


@dataclasses.dataclass(frozen=True)
class Settings:
    """The service's limits and switches. Construction validates; invalid values raise :class:`SettingsError`."""

    max_request_bytes: int = _setting(
        2 * MIB, "BYTES", "largest request body accepted, in bytes (larger: 413); base64 in JSON adds a third, so a "
        "JSON request carries an image of at most about 3/4 of this")
    max_image_pixels: int = _setting(
        4_000_000, "PIXELS",
        "largest image accepted, in pixels (width x height), checked from the header before decoding")
    max_image_side: int = _setting(8192, "PIXELS", "largest image width or height accepted, in pixels")
    allow_image_url: bool = _setting(False, "", "let GET /v1/predict?image_url=... fetch images (off: 403)")
    url_allow_hosts: tuple[str, ...] = _setting(
        (), "HOSTS", "comma-separated host names image URLs may point at (exact, case-insensitive); "
        "required when image URLs are allowed")
    url_timeout: float = _setting(5.0, "SECONDS", "seconds allowed for fetching one image URL")
    url_max_bytes: int = _setting(2 * MIB, "BYTES", "largest image fetched from a URL, in bytes")
    corrections_dir: str | None = _setting(
        None, "FOLDER", "folder where POST /v1/corrections stores corrected readings as labeled lines in IAM's "
        "layout (created if missing); unset: corrections are off")
    corrections_max_mb: int = _setting(
        100, "MIB", "largest size of the corrections folder, in MiB; a correction that would pass it is refused (507)")
    drift_window: int = _setting(
        500, "REQUESTS", f"how many of the last predictions the drift of each signal is measured over (at least "
        f"{MIN_DRIFT_WINDOW}); its PSI is reported once the window is full")
    drift_threshold: float = _setting(
        0.2, "PSI", "population stability index at which a signal counts as drifting (a warning is logged when "
        "it crosses it)")
    low_confidence_dir: str | None = _setting(
        None, "FOLDER", "folder where predictions below low_confidence_below are kept for labeling, as lines in "
        "IAM's layout labeled with the model's reading (created if missing); unset: none are kept")
    low_confidence_below: float = _setting(
        0.5, "CONFIDENCE", "keep a prediction whose confidence is below this, in (0, 1]")
    low_confidence_max_mb: int = _setting(
        100, "MIB", "largest size of the low-confidence folder, in MiB; past it predictions are no longer kept")

    def __post_init__(self) -> None:
        for name in ("max_request_bytes", "max_image_pixels", "max_image_side", "url_max_bytes", "corrections_max_mb",
                     "drift_window", "low_confidence_max_mb"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
                raise SettingsError(f"{name} must be a positive integer, got {value!r}")
        if self.drift_window < MIN_DRIFT_WINDOW:
            raise SettingsError(f"drift_window must be at least {MIN_DRIFT_WINDOW} requests, got {self.drift_window}")
        for name in ("url_timeout", "drift_threshold"):
            value = getattr(self, name)
            if not _is_number(value) or not 0 < value < float("inf"):
                raise SettingsError(f"{name} must be a positive number, got {value!r}")
        if not _is_number(self.low_confidence_below) or not 0 < self.low_confidence_below <= 1:
            raise SettingsError(f"low_confidence_below must be a number in (0, 1], got {self.low_confidence_below!r}")
        if isinstance(self.url_allow_hosts, str):
            raise SettingsError(f"url_allow_hosts must be a sequence of host names, got {self.url_allow_hosts!r}")
        hosts = tuple(host.strip().lower() for host in self.url_allow_hosts)
        if any(not host for host in hosts):
            raise SettingsError(f"url_allow_hosts must not contain empty host names, got {self.url_allow_hosts!r}")
        object.__setattr__(self, "url_allow_hosts", hosts)
        if self.allow_image_url and not hosts:
            raise SettingsError(
                f"allow_image_url is on but url_allow_hosts is empty: name the hosts images may come from "
                f"({env_name('url_allow_hosts')} or --url-allow-hosts)"
            )
        for name in FOLDERS:  # a str or os.PathLike path, kept as str
            value = getattr(self, name)
            if value is not None:
                folder = os.fspath(value) if isinstance(value, os.PathLike) else value
                if not isinstance(folder, str) or not folder.strip():
                    raise SettingsError(f"{name} must be a folder path or None, got {value!r}")
                object.__setattr__(self, name, folder)
        if self.corrections_dir is not None and self.low_confidence_dir is not None and \
                os.path.realpath(self.corrections_dir) == os.path.realpath(self.low_confidence_dir):
            raise SettingsError("corrections_dir and low_confidence_dir are the same folder: corrected readings and "
                                "the model's uncorrected ones must not mix, give each its own")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Defaults, then the ``TEXTREC_WEB_*`` variables of ``environ`` (default ``os.environ``),
        then ``overrides`` (typed values; ``None`` means not given). Raises :class:`SettingsError`."""
        environ = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for field in dataclasses.fields(cls):
            raw = environ.get(env_name(field.name))
            if raw is not None:
                try:
                    values[field.name] = PARSERS[field.name](raw)
                except ValueError as exc:
                    raise SettingsError(f"{env_name(field.name)}: {exc}") from None
        values.update({name: value for name, value in overrides.items() if value is not None})
        return cls(**values)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def env_name(field: str) -> str:
    """The environment variable that sets ``field``."""
    return ENV_PREFIX + field.upper()


def parse_positive_int(text: str) -> int:
    try:
        value = int(text.strip().replace("_", ""))
    except ValueError:
        raise ValueError(f"expected a positive integer, got {text!r}") from None
    if value <= 0:
        raise ValueError(f"expected a positive integer, got {text!r}")
    return value


def parse_positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"expected a positive number, got {text!r}") from None
    if not value > 0 or value == float("inf"):
        raise ValueError(f"expected a positive number, got {text!r}")
    return value


def parse_fraction(text: str) -> float:
    """A number in (0, 1]."""
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"expected a number in (0, 1], got {text!r}") from None
    if not 0 < value <= 1:
        raise ValueError(f"expected a number in (0, 1], got {text!r}")
    return value


def parse_bool(text: str) -> bool:
    word = text.strip().lower()
    if word in ("1", "true", "yes", "on"):
        return True
    if word in ("", "0", "false", "no", "off"):
        return False
    raise ValueError(f"expected one of 1/true/yes/on or 0/false/no/off, got {text!r}")


def parse_hosts(text: str) -> tuple[str, ...]:
    return tuple(host.strip().lower() for host in text.split(",") if host.strip())


def parse_folder(text: str) -> str | None:
    """A folder path; empty (or only spaces) means unset."""
    return text.strip() or None


#: How each field is read from its text form (environment variable or command-line option).
PARSERS: dict[str, Callable[[str], Any]] = {
    "max_request_bytes": parse_positive_int,
    "max_image_pixels": parse_positive_int,
    "max_image_side": parse_positive_int,
    "allow_image_url": parse_bool,
    "url_allow_hosts": parse_hosts,
    "url_timeout": parse_positive_float,
    "url_max_bytes": parse_positive_int,
    "corrections_dir": parse_folder,
    "corrections_max_mb": parse_positive_int,
    "drift_window": parse_positive_int,
    "drift_threshold": parse_positive_float,
    "low_confidence_dir": parse_folder,
    "low_confidence_below": parse_fraction,
    "low_confidence_max_mb": parse_positive_int,
}
