"""``textrec-ensemble OUT BUNDLE BUNDLE...``: save an ensemble of saved models as one bundle;
``textrec-ensemble-train CONFIG OUT --members K``: train K members of one config, then save them so.

The ensemble bundle embeds copies of its members and is read like any bundle: ``textrec-eval``,
``load_predictor``, ``textrec-serve``. Exit status: 0 on success; 2 for bad input (a member that is
no readable bundle, members that cannot be combined as asked, an existing ensemble folder, a bad
config or ``--calibrate`` dataset config); 1 otherwise (data errors and failed members included).
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from textrec_core.cli import at_least, exit_status
from textrec_core.errors import ConfigError
from textrec_core.experiment import check_experiment
from textrec_core.plugins import components
from textrec_ensembler.ensemble import COMBINES, build_ensemble
from textrec_ensembler.members import train_members
from textrec_eval.data import build_dataset, data_config, prepare

#: The folder under OUT where ``textrec-ensemble-train`` writes the ensemble bundle.
ENSEMBLE_DIR = "ensemble"


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
    add_combining(parser)
    parser.add_argument("--weights", type=weight_list, metavar="W,W,...", help="one weight per member (equal)")
    parser.add_argument("--calibrate", metavar="DATA",
                        help="a dataset config JSON object ('{\"dataset\": NAME, \"dataset_args\": {...}}'): "
                             "calibrate the ensemble's confidence on its validation split, and, voting, each member's "
                             "character confidences before the vote (default: raw confidences)")
    return parser


def add_combining(parser: argparse.ArgumentParser) -> None:
    """The options of how members are combined, shared by both commands."""
    parser.add_argument("--combine", choices=COMBINES, default="vote",
                        help="average the members' CTC posteriors, or vote over their readings (vote)")
    parser.add_argument("--decoder", type=decoder_names, default="greedy", metavar="NAME[,NAME...]",
                        help="the decoder every member (or the average) reads with (greedy), or, voting, one per "
                             "member (e.g. greedy,beam_joint for a CTC and an attention model)")


def decoder_names(text: str) -> str | list[str]:
    """``--decoder``: one name, or a comma-separated list of one per member."""
    names = text.split(",")
    if not all(names):
        raise argparse.ArgumentTypeError(f"expected NAME or NAME,NAME,..., got {text!r}")
    return names[0] if len(names) == 1 else names


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)

    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)

    def run() -> int:
        dataset = None
        if args.calibrate is not None:
            dataset = build_dataset(data_config(args.calibrate), components())
            prepare(dataset)
        path = build_ensemble(args.members, args.out, combine=args.combine, decoder=args.decoder,
                              weights=args.weights, calibrate_on=dataset)
        print(f"ensemble of {len(args.members)} ({args.combine}): {path}")
        return 0

    return exit_status("textrec-ensemble", run)


def build_train_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="textrec-ensemble-train",
        description="Train K members of one experiment config (seeds seed, seed+1, ...), sharing the machine's "
                    "cores or GPUs, then save them as one ensemble bundle in OUT/ensemble.",
        epilog="Example: textrec-ensemble-train '{\"dataset\": \"iam_ondb\", \"model\": \"LineModelCtc\", "
               "\"network\": \"line_lstm_ctc\"}' runs/ens --members 3 --combine average --calibrate. Rerunning "
               "the command continues: members already trained are kept.")
    parser.add_argument("config", metavar="CONFIG", help="an experiment config: a JSON object, or a .json/.yaml file")
    parser.add_argument("out", metavar="OUT", type=Path,
                        help="the folder for the members' runs (OUT/members/<i>) and the ensemble (OUT/ensemble)")
    parser.add_argument("--members", type=at_least(1), default=3, metavar="K", help="how many members to train (3)")
    parser.add_argument("--parallel", type=at_least(1), metavar="N",
                        help="members trained at once (default: one per GPU; on the CPU, one per core, at most "
                             "K); each has its share of the cores as torch threads")
    add_combining(parser)
    parser.add_argument("--calibrate", action="store_true",
                        help="calibrate the ensemble's confidence (and, voting, each member's character "
                             "confidences) on the config's dataset's validation split")
    parser.add_argument("--nowandb", action="store_true", help="the members do not log to Weights & Biases")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    return parser


def train_main(argv: Sequence[str] | None = None) -> int:
    args = build_train_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)

    def run() -> int:
        target = args.out / ENSEMBLE_DIR
        if target.exists():
            raise ConfigError("OUT", f"{str(target)!r} exists: this ensemble is already built")
        checked = []
        bundles = train_members(args.config, args.out, args.members, parallel=args.parallel,
                                use_wandb=not args.nowandb, progress=not args.quiet,
                                check=lambda source: checked.append(check_experiment(source)))
        dataset = None
        if args.calibrate:
            dataset = checked[0].dataset
            prepare(dataset)
        path = build_ensemble(bundles, target, combine=args.combine, decoder=args.decoder, calibrate_on=dataset,
                              progress=not args.quiet)
        print(f"ensemble of {len(bundles)} ({args.combine}): {path}")
        return 0

    return exit_status("textrec-ensemble-train", run)
