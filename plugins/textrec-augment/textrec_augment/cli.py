"""``textrec-augment show CONFIG --out grid.png``: a picture of sample training lines before and
after each of an experiment's augmenters, and after the whole pipeline.

CONFIG is an experiment config as ``textrec-run`` takes it (a JSON object or a file holding one);
its dataset is prepared (its data downloaded or read, as for training) and its ``augmenters`` are
shown. Exit status: 0 on success; 2 for a bad config or options; 1 for data and other errors.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from textrec_core.cli import exit_status
from textrec_core.errors import ConfigError, TextrecError
from textrec_core.experiment import check_experiment


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="textrec-augment", description="Look at what augmenters do.")
    commands = parser.add_subparsers(dest="command", required=True)
    show = commands.add_parser(
        "show", help="draw sample training lines before and after each augmenter of an experiment config",
        epilog="Example: textrec-augment show '{\"dataset\": \"iam_ondb\", \"model\": \"LineModelCtc\", "
               "\"network\": \"line_lstm_ctc\", \"augmenters\": [\"elastic\", \"blur\"]}' --out grid.png")
    show.add_argument("config", metavar="CONFIG", help="an experiment config: a JSON object or a file holding one")
    show.add_argument("--out", type=Path, default=Path("augmenters.png"), metavar="PNG",
                      help="the picture to write (augmenters.png)")
    show.add_argument("--lines", type=int, default=2, metavar="N", help="sample lines per row, 1 to 8 (2)")
    show.add_argument("--seed", type=int, default=0, help="seed of the lines drawn and of the augmenters (0)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
    return exit_status("textrec-augment", lambda: show(args))


def show(args: argparse.Namespace) -> int:
    from textrec_augment.show import augmented_views, sample_lines, write_grid

    if not 1 <= args.lines <= 8:
        raise ConfigError("--lines", f"must be 1 to 8, got {args.lines}")
    if args.out.exists() and args.out.is_dir():
        raise ConfigError("--out", f"{str(args.out)!r} is a folder, not a file to write")
    built = check_experiment(args.config)
    if not built.augmenters:
        raise ConfigError("augmenters", "the config names no augmenters to show")
    built.dataset.prepare()
    lines = sample_lines(built.dataset.train, args.lines, args.seed)
    names = [spec.name for spec in built.resolved.config.augmenters]
    try:
        path = write_grid(augmented_views(lines, built.augmenters, names, args.seed), args.out)
    except OSError as exc:
        raise TextrecError(f"cannot write {str(args.out)!r}: {exc}") from None
    print(f"wrote {path}")
    return 0
