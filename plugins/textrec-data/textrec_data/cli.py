"""``textrec-data``: labeled pages in, versioned line datasets out, and pre-annotated tasks back.

- ``textrec-data import EXPORT DATASET``: read a Label Studio JSON or Dataturks JSON-lines export,
  cut each labeled region into a line image through the quality gates, and write the next version
  of the dataset folder ``DATASET`` (``DATASET/v<n>``, IAM's layout with ``metadata.toml``), saying
  what the gates excluded and what changed since the last version.
- ``textrec-data verify VERSION``: recompute every digest of a version against its metadata.
- ``textrec-data versions DATASET``: list a dataset's versions with their counts and changes.
- ``textrec-data export-tasks BUNDLE IMAGES OUT.json``: Label Studio tasks of line images with a
  model's readings as pre-annotations, least confident (or least agreed) first.
- ``textrec-data sample-export OUT``: a labeling export of real handwriting (IAM-OnDB's test forms
  drawn as scanned pages) to try all this with (:mod:`textrec_data.sample`).

Exit status: 0 on success; 2 for usage errors and unusable input (an export that is neither format,
a folder that is no dataset version); 1 when ``verify`` finds a mismatch, and for other data and
runtime errors. Every error is one paragraph on stderr.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from textrec_core.cli import at_least, exit_status, fail
from textrec_core.errors import ConfigError, DataError
from textrec_core.services.download import data_dir, sha256_file
from textrec_data.exports import read_export
from textrec_data.lines import collect
from textrec_data.metadata import read_version, verify
from textrec_data.pages import load_pages
from textrec_data.versions import existing_versions, write_version
from textrec_iam.alphabet import IAM_CHARACTERS

log = logging.getLogger("textrec")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="textrec-data", description=__doc__.split("\n\n")[0].split(": ", 1)[1])
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    imp = commands.add_parser("import", help="import a labeling export as the next version of a dataset",
                              description="Import a Label Studio JSON or Dataturks JSON-lines export as the next "
                                          "version of a dataset folder.")
    imp.add_argument("export", type=Path, metavar="EXPORT", help="the export file")
    imp.add_argument("dataset", type=Path, metavar="DATASET", help="the dataset folder; versions go in DATASET/v<n>")
    imp.add_argument("--images", type=Path, action="append", default=[], metavar="DIR",
                     help="where page images given as paths are looked for (repeatable; Label Studio's "
                          "/data/upload/... and /data/local-files/?d=... paths are taken under it). The export's "
                          "own folder is always looked in last")
    imp.add_argument("--image-key", default="image", metavar="KEY",
                     help="the key of Label Studio's task data that holds the page image (image)")
    imp.add_argument("--alphabet", metavar="CHARS",
                     help="exclude lines with characters outside CHARS; 'iam' means IAM's 79 characters "
                          "(default: every character is kept)")
    imp.add_argument("--name", help="the dataset's name in its metadata (default: DATASET's folder name)")
    imp.add_argument("--val-fraction", type=_fraction, default=0.1, metavar="F", help="pages for validation (0.1)")
    imp.add_argument("--test-fraction", type=_fraction, default=0.1, metavar="F", help="pages for testing (0.1)")
    imp.add_argument("--workers", type=at_least(1), default=8, metavar="N", help="page images fetched at once (8)")
    imp.add_argument("--retries", type=at_least(0), default=3, metavar="N",
                     help="tries again for a failed download (3; an HTTP 4xx answer is final)")
    imp.add_argument("--timeout", type=float, default=30.0, metavar="S", help="seconds per network operation (30)")

    ver = commands.add_parser("verify", help="check every digest of a dataset version",
                              description="Recompute every file digest of a dataset version against its "
                                          "metadata.toml; exit 1 on any mismatch.")
    ver.add_argument("version", type=Path, metavar="VERSION", help="a version folder (DATASET/v<n>)")

    lst = commands.add_parser("versions", help="list a dataset's versions",
                              description="List a dataset's versions with their counts and changes.")
    lst.add_argument("dataset", type=Path, metavar="DATASET")

    tasks = commands.add_parser("export-tasks", help="Label Studio tasks pre-annotated with a model's readings",
                                description="Write Label Studio tasks for line images with a model's readings as "
                                            "pre-annotations (predictions), least confident first.")
    tasks.add_argument("bundle", type=Path, metavar="BUNDLE", help="a saved model (or ensemble) bundle")
    tasks.add_argument("images", type=Path, metavar="IMAGES",
                       help="a folder of line images (searched recursively), e.g. DATASET/v<n>/unlabeled")
    tasks.add_argument("out", type=Path, metavar="OUT.json", help="the tasks file to write")
    tasks.add_argument("--order", choices=("confidence", "disagreement"), default="confidence",
                       help="least confident first, or (an ensemble) least agreement first (confidence)")
    tasks.add_argument("--url-prefix", default="/data/local-files/?d=", metavar="PREFIX",
                       help="put before each image's path relative to IMAGES to make its task URL "
                            "(/data/local-files/?d=, Label Studio's local files)")
    tasks.add_argument("--limit", type=at_least(1), metavar="N", help="only the first N tasks in that order")

    sample = commands.add_parser("sample-export", help="a labeling export of real handwriting to try the loop with",
                                 description="Draw IAM-OnDB's test-split forms as scanned pages and write them with "
                                             "a labeling export that outlines every line (needs textrec-iam-ondb "
                                             "and IAM-OnDB: the data mirror or your registration).")
    sample.add_argument("out", type=Path, metavar="OUT", help="the folder to write pages/ and the export in")
    sample.add_argument("--pages", type=at_least(1), default=40, metavar="N", help="pages, one form each (40)")
    sample.add_argument("--format", choices=("label-studio", "dataturks"), default="label-studio",
                        help="Label Studio's JSON (export.json) or Dataturks' JSON lines (export.jsonl)")
    sample.add_argument("--missing", type=_fraction, default=0.15, metavar="F",
                        help="the fraction of lines left without a transcription (0.15)")
    sample.add_argument("--seed", type=int, default=0)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
    command = {"import": _import, "verify": _verify, "versions": _versions, "export-tasks": _export_tasks,
               "sample-export": _sample_export}
    return exit_status("textrec-data", lambda: command[args.command](args))


def _fraction(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not 0 <= value < 1:
        raise argparse.ArgumentTypeError(f"must be in [0, 1), got {value}")
    return value


def _import(args: argparse.Namespace) -> int:
    if args.val_fraction + args.test_fraction >= 1:
        raise ConfigError("--val-fraction/--test-fraction", "together they must leave pages for training "
                          f"(got {args.val_fraction} + {args.test_fraction})")
    if not args.export.is_file():
        raise ConfigError("EXPORT", f"{str(args.export)!r} is no file")
    alphabet = set(IAM_CHARACTERS) if args.alphabet == "iam" else set(args.alphabet) if args.alphabet else None
    try:
        export = read_export(args.export, image_key=args.image_key)
    except DataError as exc:
        raise ConfigError("EXPORT", str(exc)) from None
    roots = [*args.images, args.export.resolve().parent]
    images = load_pages([page.location for page in export.pages if page.location], roots=roots,
                        cache=data_dir() / "labeling" / "pages", workers=args.workers, retries=args.retries,
                        timeout=args.timeout)
    collected = collect(export, images, alphabet=alphabet)
    for line in collected.report.lines():
        print(line)
    source = {"export": str(args.export.resolve()), "format": export.format, "sha256": sha256_file(args.export),
              "image_roots": [str(root.resolve()) for root in roots]}
    written = write_version(args.dataset, collected, name=args.name or args.dataset.resolve().name, source=source,
                            val_fraction=args.val_fraction, test_fraction=args.test_fraction)
    counts = written.counts
    print(f"{export.format} export: {counts['lines']} lines from {counts['pages']} pages "
          f"({counts['train']} train, {counts['val']} val, {counts['test']} test), "
          f"{counts['unlabeled']} regions without a transcription kept in unlabeled/")
    if not written.new:
        print(f"nothing changed since v{written.version}: no new version written ({written.path})")
        return 0
    changes = written.changes
    if changes.previous is not None:
        print(f"changes since v{changes.previous}: {changes.added} added, {changes.removed} removed, "
              f"{changes.relabeled} relabeled")
    print(f"dataset version v{written.version}: {written.path}")
    return 0


def _verify(args: argparse.Namespace) -> int:
    try:
        result = verify(args.version)
    except ValueError as exc:
        raise ConfigError("VERSION", str(exc)) from None
    problems = [*(f"changed: {p}" for p in result.changed), *(f"missing: {p}" for p in result.missing),
                *(f"not in the manifest: {p}" for p in result.unexpected)]
    if not result.manifest_ok:
        problems.append("the recorded manifest digest does not match the recorded file digests: metadata.toml "
                        "was edited")
    if problems:
        shown = problems[:20] + ([f"... and {len(problems) - 20} more"] if len(problems) > 20 else [])
        return fail(f"{args.version}: {len(problems)} mismatches\n" + "\n".join(f"  {p}" for p in shown), 1)
    metadata = read_version(args.version)
    print(f"{args.version}: OK, {metadata['manifest']['files']} files match "
          f"(manifest sha256 {metadata['manifest']['sha256']})")
    return 0


def _versions(args: argparse.Namespace) -> int:
    versions = existing_versions(args.dataset)
    if not versions:
        raise ConfigError("DATASET", f"{str(args.dataset)!r} holds no dataset versions "
                                     "(v1, v2, ... with metadata.toml)")
    for number, folder in versions:
        meta = read_version(folder)
        counts, changes = meta.get("counts", {}), meta.get("changes", {})
        print(f"v{number}  {meta.get('created', '?')}  {counts.get('lines', '?')} lines "
              f"({counts.get('train', '?')}/{counts.get('val', '?')}/{counts.get('test', '?')})  "
              f"+{changes.get('added', 0)} -{changes.get('removed', 0)} ~{changes.get('relabeled', 0)}  "
              f"from {meta.get('source', {}).get('export', '?')}")
    return 0


def _sample_export(args: argparse.Namespace) -> int:
    try:
        from textrec_data.sample import make_sample_export
    except ImportError as exc:
        raise ConfigError("sample-export", f"needs textrec-iam-ondb ({exc}): pip install -c constraints.txt "
                                           "./plugins/textrec-iam-ondb") from None
    export = make_sample_export(args.out, pages=args.pages, export_format=args.format, missing=args.missing,
                                seed=args.seed)
    print(f"sample export: {export}")
    return 0


def _export_tasks(args: argparse.Namespace) -> int:
    from textrec_data.tasks import export_tasks

    count = export_tasks(args.bundle, args.images, args.out, order=args.order, url_prefix=args.url_prefix,
                         limit=args.limit)
    print(json.dumps({"tasks": count, "out": str(args.out)}))
    return 0

