"""``textrec-serve``: serve a model bundle with Flask's development server (one process, threaded).

Exit status: 2 for usage errors (bad options or settings, no bundle at ``--model``, a bundle
whose plugins are not installed), 1 when the server cannot start (address in use); each with a
one-paragraph message on stderr. For production use gunicorn with :mod:`textrec_web.wsgi`.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from textrec_core.bundle import META_FILE
from textrec_core.cli import exit_status, fail
from textrec_core.errors import BundleError, UnknownComponentError
from textrec_web.app import create_app
from textrec_web.monitoring import configure_logging
from textrec_web.settings import PARSERS, Settings, SettingsError, env_name

USAGE_ERRORS = (SettingsError, BundleError, UnknownComponentError)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="textrec-serve",
        description="Serve a textrec line model over HTTP (POST /v1/predict, GET /healthz, a drawing page at /, "
        "monitoring at GET /metrics, /v1/drift and /status, and POST /v1/corrections when --corrections-dir is "
        "given) with Flask's development server. In production run gunicorn: see docs/web.md.",
        epilog="Every option below --port can also be set by the environment variable named in its help; "
        "an option overrides its variable.",
    )
    parser.add_argument("--model", metavar="BUNDLE", default=os.environ.get(env_name("model")),
                        help=f"model bundle folder, as saved by textrec-run --save (default: ${env_name('model')})")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    parser.add_argument("--port", type=_port, default=8000, help="port to listen on (default: 8000)")
    for field in dataclasses.fields(Settings):
        option = "--" + field.name.replace("_", "-")
        help_text = f"{field.metadata['help']} (${env_name(field.name)}; default: {_shown(field.default)})"
        if field.type in (bool, "bool"):
            parser.add_argument(option, action="store_true", default=None, help=help_text)
        else:
            parser.add_argument(option, type=_option_type(PARSERS[field.name]), metavar=field.metadata["metavar"],
                                help=help_text)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not args.model:
        parser.error(f"--model BUNDLE is required (or set {env_name('model')})")
    if not (Path(args.model) / META_FILE).is_file():
        parser.error(f"--model {args.model}: not a textrec model bundle (no {META_FILE} there); "
                     "give the folder textrec-run --save printed")
    return exit_status("textrec-serve", lambda: _serve(args), USAGE_ERRORS)


def _serve(args: argparse.Namespace) -> int:
    overrides = {field.name: getattr(args, field.name) for field in dataclasses.fields(Settings)}
    settings = Settings.from_env(**overrides)
    configure_logging()
    app = create_app(args.model, settings)
    try:
        app.run(host=args.host, port=args.port, threaded=True, debug=False, use_reloader=False)
    except OSError as exc:
        return fail(f"textrec-serve: cannot listen on {args.host}:{args.port}: {exc.strerror or exc}", 1)
    return 0


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a port number, got {text!r}") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"expected a port number from 0 to 65535, got {text!r}")
    return port


def _option_type(parse: Callable[[str], Any]) -> Callable[[str], Any]:
    """``parse`` for argparse: its ``ValueError`` becomes the option's error message."""

    def convert(text: str) -> Any:
        try:
            return parse(text)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    return convert


def _shown(default: Any) -> str:
    if default is None:
        return "none"
    if isinstance(default, tuple):
        return ",".join(default) or "none"
    return str(default).lower() if isinstance(default, bool) else str(default)


if __name__ == "__main__":
    raise SystemExit(main())
