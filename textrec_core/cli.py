"""``textrec-run``: train a model from a config of registered component names.

Exit status: 0 on success, 2 for usage and config errors (unknown names, bad fields), 1 for
data and runtime errors; every user-caused error is one paragraph on stderr, no traceback.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import socket
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from textrec_core.components import KINDS
from textrec_core.config import with_overrides
from textrec_core.errors import ConfigError, DuplicateComponentError, TextrecError, UnknownComponentError
from textrec_core.plugins import components, load_errors
from textrec_core.services.allocator import keep_freed_memory

log = logging.getLogger("textrec")

USAGE_ERRORS = (ConfigError, UnknownComponentError, DuplicateComponentError)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="textrec-run",
        description="Train a handwriting recognizer from an experiment config of component names.",
        epilog='Example: textrec-run --save \'{"dataset": "synthetic", "model": "CharacterModel", '
        '"network": "lenet", "train_args": {"epochs": 3}}\'',
    )
    parser.add_argument("config", nargs="?", metavar="CONFIG", help="a JSON object, or a .json/.yaml file")
    parser.add_argument("overrides", nargs="*", metavar="PATH=VALUE",
                        help="set a config field, dotted into its objects, VALUE read as JSON or else as a string "
                             "(e.g. network_args.lstm_size=128 train_args.epochs=3)")
    parser.add_argument("--save", action="store_true", help="save a model bundle and print its path")
    parser.add_argument("--resume", type=Path, metavar="RUN_DIR",
                        help="continue the run in RUN_DIR from its last checkpoint, with its recorded config (no "
                             "CONFIG); same device and --gpu, same threads for an identical result")
    parser.add_argument(
        "--check", action="store_true",
        help="check the config (build the network and model from the data shapes) and exit, reading no data",
    )
    parser.add_argument(
        "--gpu", type=int, metavar="N",
        help="CUDA device index (default: cuda:0 if available, else CPU; -1 forces the CPU)",
    )
    parser.add_argument("--nproc", type=at_least(1), default=1, metavar="N",
                        help="train in N processes on this machine with DistributedDataParallel (gloo on the CPU, "
                             "one GPU each with nccl); the config's batch_size is the global batch")
    parser.add_argument("--nowandb", action="store_true", help="do not log to Weights & Biases")
    parser.add_argument("--list-components", action="store_true", help="list registered components and exit")
    parser.add_argument("--json", action="store_true", help="with --list-components: print JSON")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    arguments = list(sys.argv[1:] if argv is None else argv)
    args = parser.parse_args(arguments)
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
    if args.nproc > 1 and "WORLD_SIZE" not in os.environ:
        return launch(args.nproc, without_nproc(arguments))
    return exit_status("textrec-run", lambda: _run(parser, args))


def without_nproc(arguments: list[str]) -> list[str]:
    """The command line without its ``--nproc N`` (or ``--nproc=N``)."""
    kept, skip = [], False
    for argument in arguments:
        if skip:
            skip = False
        elif argument == "--nproc":
            skip = True
        elif not argument.startswith("--nproc="):
            kept.append(argument)
    return kept


def launch(nproc: int, arguments: list[str]) -> int:
    """Run this command in ``nproc`` processes on this machine, as torchrun would (``RANK``,
    ``LOCAL_RANK``, ``WORLD_SIZE``, ``MASTER_ADDR`` and ``MASTER_PORT`` set), and wait for them;
    the first non-zero exit status, or 0."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    children = []
    for rank in range(nproc):
        env = {**os.environ, "RANK": str(rank), "LOCAL_RANK": str(rank), "WORLD_SIZE": str(nproc),
               "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": str(port)}
        children.append(subprocess.Popen([sys.executable, sys.argv[0], *arguments], env=env))
    codes = [child.wait() for child in children]
    return next((code for code in codes if code != 0), 0)


def exit_status(prog: str, action: Callable[[], int], usage_errors: tuple[type[Exception], ...] = USAGE_ERRORS) -> int:
    """``action()``'s exit status, the errors a user causes reported as one paragraph on stderr
    and no traceback: ``usage_errors`` exit 2, any other :class:`TextrecError` 1, Ctrl-C 130.
    Every textrec command reports errors this way."""
    try:
        return action()
    except usage_errors as exc:
        return fail(f"{prog}: error: {exc}", 2)
    except TextrecError as exc:
        return fail(f"{prog}: {type(exc).__name__}: {exc}", 1)
    except KeyboardInterrupt:
        return fail(f"{prog}: interrupted", 130)


def at_least(minimum: int) -> Callable[[str], int]:
    """An argparse type: an integer of at least ``minimum`` (the command exits 2 otherwise)."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be at least {minimum}, got {value}")
        return value

    return parse


def fail(message: str, status: int) -> int:
    """Print ``message`` on stderr and return ``status``."""
    print(message, file=sys.stderr)
    return status


def _run(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    if args.list_components:
        return list_components(as_json=args.json)
    if args.resume is not None and (args.config or args.check):
        parser.error("--resume continues a run with the config it recorded: give no CONFIG and no --check")
    config = with_overrides(args.config, args.overrides) if args.config else None
    if not args.config and args.resume is None:
        parser.error("CONFIG is required (or use --resume RUN_DIR or --list-components)")
    from textrec_core.experiment import check_experiment, run_experiment

    if args.check:
        built = check_experiment(config)
        print(f"config OK: {type(built.model).__name__} on {built.resolved.names['network']} "
              f"for {built.resolved.names['dataset']}")
        return 0
    keep_freed_memory()
    run_experiment(config, save=args.save, gpu=args.gpu, use_wandb=not args.nowandb, progress=not args.quiet,
                   resume=args.resume)
    return 0


def list_components(as_json: bool) -> int:
    table = components()
    listing: dict[str, Any] = {
        kind: [
            {"name": e.name, "aliases": list(e.aliases), "provider": e.provider, "summary": e.summary,
             "train_defaults": dict(e.train_defaults)}
            for e in table[kind]
        ]
        for kind in KINDS
    }
    errors = [str(e) for e in load_errors()]
    if as_json:
        print(json.dumps({"components": listing, "load_errors": errors}, indent=2))
        return 0
    for kind in KINDS:
        print(f"{kind}s:")
        for e in listing[kind]:
            aliases = f" (aliases: {', '.join(e['aliases'])})" if e["aliases"] else ""
            print(f"  {e['name']}{aliases}  [{e['provider']}]  {e['summary']}")
            if e["train_defaults"]:
                print("      recipe: " + ", ".join(f"{k} {v}" for k, v in e["train_defaults"].items()))
        if not listing[kind]:
            print("  (none)")
    for error in errors:
        print(f"warning: {error}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
