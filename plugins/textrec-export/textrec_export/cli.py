"""``textrec-export BUNDLE --format onnx``: write a bundle's network as an ONNX graph (into the bundle,
or ``--out DIR``) that ``load_predictor`` serves through ONNX Runtime.

Exit status: 0 on success, printing where the graph went and how it was checked; 2 for usage
errors (options, a BUNDLE that is no readable bundle or whose network plugin is missing, a network
that cannot be exported, a target folder holding other files); 1 when the graph's output differs
from the network's beyond the tolerance (nothing is written) and for other runtime errors. Every
user-caused error is one paragraph on stderr, no traceback.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

from textrec_core.cli import USAGE_ERRORS as RUN_USAGE_ERRORS
from textrec_core.cli import exit_status
from textrec_core.errors import BundleError
from textrec_export.export import export_onnx
from textrec_export.forms import UnsupportedNetwork

#: Errors reported with exit status 2: textrec-run's usage errors, unreadable bundles, networks without a form.
USAGE_ERRORS = (*RUN_USAGE_ERRORS, BundleError, UnsupportedNetwork)
FORMATS = ("onnx",)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="textrec-export",
        description="Write a saved model's network as an ONNX graph with a dynamic batch (and width, for networks "
                    "that read any width), checked against the network; load_predictor serves a bundle from it.",
        epilog="Example: textrec-export runs/<run>/model --format onnx",
    )
    parser.add_argument("bundle", metavar="BUNDLE", type=Path, help="a model bundle folder (textrec-run --save)")
    parser.add_argument("--format", choices=FORMATS, default="onnx", help="the graph's format (onnx)")
    parser.add_argument("--out", type=Path, metavar="DIR",
                        help="write the graph into DIR instead of BUNDLE/graph (DIR is replaced; it must be absent or "
                             "hold only an earlier export)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return exit_status("textrec-export", lambda: run(args), USAGE_ERRORS)


def run(args: argparse.Namespace) -> int:
    exported = export_onnx(args.bundle, args.out)
    meta, verified = exported.meta, exported.meta["verified"]
    dynamic = " and ".join(meta["dynamic_axes"]["images"].values())
    print(f"{exported.folder / meta['file']}: ONNX opset {meta['opset']}, {dynamic} dynamic; output equal to the "
          f"network's within {verified['atol']:g} + {verified['rtol']:g} x |value| on {len(verified['inputs'])} "
          f"inputs (largest difference {verified['max_abs_difference']:.2g})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
