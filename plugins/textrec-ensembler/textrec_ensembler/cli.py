"""``textrec-ensemble OUT BUNDLE BUNDLE...``: save an ensemble of saved models as one bundle.

The ensemble bundle embeds copies of its members and is read like any bundle: ``textrec-eval``,
``load_predictor``, ``textrec-serve``. Exit status: 0 on success; 2 for bad input (a member that is
no readable bundle, members that cannot be combined as asked, an existing OUT); 1 otherwise.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

from textrec_core.cli import exit_status
from textrec_ensembler.ensemble import COMBINES, build_ensemble


def weight_list(text: str) -> list[float]:
    try:
        return [float(part) for part in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated numbers, got {text!r}") from None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="textrec-ensemble", description="Save two or more model bundles as one ensemble bundle.",
        epilog="Example: textrec-ensemble runs/ensemble runs/a/model runs/b/model --combine average; then "
               "textrec-eval runs/ensemble ../shared/mirror/iam-sample")
    parser.add_argument("out", metavar="OUT", type=Path, help="the ensemble bundle folder to write (must not exist)")
    parser.add_argument("members", metavar="BUNDLE", nargs="+", type=Path, help="the members' bundle folders")
    parser.add_argument("--combine", choices=COMBINES, default="vote",
                        help="average the members' CTC posteriors, or vote over their readings (vote)")
    parser.add_argument("--decoder", default="greedy", help="the decoder each member (or the average) reads with")
    parser.add_argument("--weights", type=weight_list, metavar="W,W,...", help="one weight per member (equal)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)

    def run() -> int:
        path = build_ensemble(args.members, args.out, combine=args.combine, decoder=args.decoder,
                              weights=args.weights)
        print(f"ensemble of {len(args.members)} ({args.combine}): {path}")
        return 0

    return exit_status("textrec-ensemble", run)
