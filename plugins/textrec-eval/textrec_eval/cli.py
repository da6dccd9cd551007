"""``textrec-eval BUNDLE DATA``: measure a saved model on a dataset's test split (``--split val``:
its validation split, for choices made before the test split is read).

Reports corpus CER and WER and lines per second for each decoder, and the worst lines with their
readings: as a table on stdout, as one JSON object (``--json``, schema in :mod:`textrec_eval.output`),
and optionally as a self-contained HTML page (``--save-report DIR``, :mod:`textrec_eval.report`).
``--baseline OTHER`` reads the same lines with another bundle too and says, per decoder, by how much
the bundle's CER differs from it, with a paired bootstrap interval over the lines
(:mod:`textrec_eval.comparison`).

Exit status: 0 on success; 2 for usage errors (options, a BUNDLE that is no readable bundle or
whose plugins are missing, a DATA that is neither a dataset config nor an IAM folder, a bad
config); 1 for data errors (:class:`~textrec_core.errors.DataError`) and other runtime errors.
Every user-caused error is one paragraph on stderr, no traceback, and leaves no report behind.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from textrec_core.cli import USAGE_ERRORS as RUN_USAGE_ERRORS
from textrec_core.cli import at_least, exit_status
from textrec_core.errors import BundleError, ConfigError, TextrecError
from textrec_core.plugins import components, load_errors
from textrec_eval.comparison import RESAMPLES, Comparisons, compare
from textrec_eval.data import build_dataset, data_config, prepare
from textrec_eval.evaluate import evaluate
from textrec_eval.output import as_dict, as_table
from textrec_eval.readers import DEFAULT_DECODERS, SAVED_READING, baseline_name, load_baseline, load_readers
from textrec_eval.report import write_report

log = logging.getLogger("textrec")

#: The dataset splits textrec-eval reads (``Dataset.test`` and ``Dataset.val``).
SPLITS = ("test", "val")

#: Errors reported with exit status 2: textrec-run's usage errors, and unreadable bundles.
USAGE_ERRORS = (*RUN_USAGE_ERRORS, BundleError)


def decoder_list(text: str) -> tuple[str, ...]:
    """``--decoders``: comma-separated, non-empty names, each once."""
    names = tuple(name.strip() for name in text.split(","))
    if not all(names):
        raise argparse.ArgumentTypeError(f"expected comma-separated decoder names, got {text!r}")
    if len(set(names)) != len(names):
        raise argparse.ArgumentTypeError(f"a decoder is named twice in {text!r}")
    return names


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="textrec-eval",
        description="Measure a saved model bundle on a dataset's test split: CER, WER, lines per second and the "
                    "worst lines, per decoder.",
        epilog="Examples: textrec-eval runs/<run>/model ../shared/mirror/iam-sample --save-report eval-report; "
               "textrec-eval runs/<run>/model '{\"dataset\": \"iam_ondb\"}' --json; "
               "textrec-eval runs/<new>/model ../shared/mirror/iam-sample --baseline runs/<old>/model",
    )
    parser.add_argument("bundle", metavar="BUNDLE", type=Path, help="a model bundle folder (textrec-run --save)")
    parser.add_argument("data", metavar="DATA",
                        help="a dataset config JSON object ('{\"dataset\": NAME, \"dataset_args\": {...}}'; its test "
                             "split is read) or a folder in IAM's layout (lines/ and ascii/lines.txt)")
    parser.add_argument("--decoders", type=decoder_list, metavar="LIST",
                        help=f"comma-separated decoders (default: {','.join(DEFAULT_DECODERS)}); '{SAVED_READING}' "
                             "is the decoder the bundle was saved with; a model without a decoder argument reads its "
                             "one way and takes none")
    parser.add_argument("--split", choices=SPLITS, default="test",
                        help="the split read: test (default), or val to tune ensemble weights or other choices "
                             "without touching the test split")
    parser.add_argument("--batch-size", type=at_least(1), default=32, metavar="N", help="lines per batch (32)")
    parser.add_argument("--worst", type=at_least(0), default=10, metavar="K",
                        help="how many of the worst lines to show, by the first decoder's per-line CER (10)")
    parser.add_argument("--baseline", type=Path, metavar="BUNDLE",
                        help="read the same lines with this bundle too (same decoders) and give, per decoder, the "
                             "difference of the CERs with a 95 %% interval from a paired bootstrap over the lines "
                             f"({RESAMPLES} resamples): an interval holding 0 means these lines cannot tell the two "
                             "apart")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of the table")
    parser.add_argument("--save-report", type=Path, metavar="DIR",
                        help="write DIR/report.html: the worst lines' images, truths and highlighted readings")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
    return exit_status("textrec-eval", lambda: run(args), USAGE_ERRORS)


def run(args: argparse.Namespace) -> int:
    """Check every input (bundle, data config, report folder) before reading any data, then evaluate."""
    if args.save_report is not None and args.save_report.exists() and not args.save_report.is_dir():
        raise ConfigError("--save-report", f"{str(args.save_report)!r} exists and is not a folder")
    for error in load_errors():
        log.warning("warning: %s", error)
    table = components()
    readers = load_readers(args.bundle, args.decoders, table)
    names = list(readers)
    if args.baseline is not None:
        readers |= load_baseline(args.baseline, readers, table)
    config = data_config(args.data)
    dataset = build_dataset(config, table)
    prepare(dataset)
    split = getattr(dataset, args.split)
    evaluation = evaluate(readers, split, dataset.shapes.mapping, batch_size=args.batch_size, worst=args.worst)
    bundle, data = str(args.bundle), json.dumps(config, ensure_ascii=False)
    comparisons = None if args.baseline is None else Comparisons(str(args.baseline), {
        name: compare(evaluation.edits[name], evaluation.edits[baseline_name(name)], evaluation.truth_lengths)
        for name in names})
    if args.save_report is not None:
        try:
            path = write_report(args.save_report, evaluation, bundle, data, comparisons)
        except OSError as exc:
            raise TextrecError(f"cannot write the report into {str(args.save_report)!r}: {exc}") from None
        log.info("report: %s", path)
    print(json.dumps(as_dict(evaluation, bundle, config, args.split, comparisons), indent=2) if args.json
          else as_table(evaluation, bundle, data, args.split, comparisons))
    return 0
