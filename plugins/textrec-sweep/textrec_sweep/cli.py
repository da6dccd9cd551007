"""``textrec-sweep SWEEP.yaml``: run a hyper-parameter sweep offline, with Optuna, on one or many machines.

``SWEEP.yaml`` is W&B's sweep format (:mod:`textrec_sweep.spec`); ``SWEEP.json`` is an experiment
group, several configs run side by side (:mod:`textrec_sweep.groups`). The sweep folder (``--folder``,
default ``sweeps/<SWEEP's name>``) holds the study's database (unless ``--storage`` names another),
every trial's run folder, and the results (:mod:`textrec_sweep.results`), rewritten after each run
of the command. ``--workers N`` runs N worker processes here, sharing the cores as torch threads
(or the GPUs, one each); ``--join`` makes this process one more worker of an existing study, e.g.
on another machine with ``--storage postgresql://...``. Rerunning the command continues the study.

Exit status: 0 on success; 2 for usage and config errors (a bad sweep file or base config); 1 for
data and runtime errors; 130 when interrupted (finished trials are kept).
"""

from __future__ import annotations

import argparse
import logging
import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import optuna
import torch

from textrec_core.cli import at_least, exit_status
from textrec_core.errors import ConfigError
from textrec_core.experiment import check_experiment
from textrec_sweep.groups import read_group
from textrec_sweep.results import write_results
from textrec_sweep.spec import read_sweep
from textrec_sweep.study import GRACE_S, grid_size, open_study, storage_url, work

log = logging.getLogger("textrec")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="textrec-sweep", description="Run a sweep in W&B's sweep format offline with Optuna.",
        epilog="Example: textrec-sweep docs/sweeps/lstm-ctc.yaml --workers 2; then see sweeps/lstm-ctc/results.md")
    parser.add_argument("sweep", metavar="SWEEP", type=Path,
                        help="the sweep file (W&B's sweep format, .yaml), or an experiment group (.json)")
    parser.add_argument("--folder", type=Path, help="the sweep folder (default: sweeps/<SWEEP's name>)")
    parser.add_argument("--workers", type=at_least(1), default=1, metavar="N", help="worker processes here (1)")
    parser.add_argument("--trials", type=at_least(1), metavar="N", help="trials in all (default: the file's run_cap)")
    parser.add_argument("--storage", metavar="URL",
                        help="the study's database URL (default: sqlite:///<folder>/study.db)")
    parser.add_argument("--study", metavar="NAME", help="the study's name in the database (default: SWEEP's name)")
    parser.add_argument("--join", action="store_true", help="work on the study as one more worker, then exit")
    parser.add_argument("--base", metavar="CONFIG", help="the base config, instead of the one the file's command names")
    parser.add_argument("--threads", type=at_least(1), metavar="T",
                        help="torch threads per worker (default: the cores shared among the workers)")
    parser.add_argument("--seed", type=int,
                        help="the sampler's seed (worker i of --workers takes seed + i; default: drawn afresh, so "
                             "workers joining from several machines draw different trials)")
    parser.add_argument("--grace", type=at_least(1), default=GRACE_S, metavar="SECONDS",
                        help=f"a running trial silent this long counts as dead, and is tried again ({GRACE_S})")
    parser.add_argument("--nowandb", action="store_true", help="the trials do not log to Weights & Biases")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    return exit_status("textrec-sweep", lambda: run(args))


def run(args: argparse.Namespace) -> int:
    if args.sweep.suffix == ".json":
        if args.base is not None:
            raise ConfigError("--base", "an experiment group names its own configs")
        sweep = read_group(args.sweep)
    else:
        sweep = read_sweep(args.sweep, args.base)
    trials = args.trials if args.trials is not None else sweep.run_cap
    if sweep.method == "grid":
        trials = min(trials or grid_size(sweep), grid_size(sweep))
    elif trials is None:
        raise ConfigError("run_cap", f"a {sweep.method} sweep needs run_cap in the file or --trials")
    for source in sweep.experiments.values() if sweep.experiments is not None else [sweep.base]:
        base = check_experiment(source)  # a bad config fails before any trial
    folder = args.folder if args.folder is not None else Path("sweeps") / args.sweep.stem
    folder.mkdir(parents=True, exist_ok=True)
    url = storage_url(folder, args.storage)
    name = args.study or args.sweep.stem
    study = open_study(sweep, name, url, epochs=base.resolved.config.train_args.epochs, seed=args.seed,
                       grace=args.grace)
    gpus = torch.cuda.device_count()
    threads = args.threads or max(1, len(os.sched_getaffinity(0)) // args.workers)
    if args.join or args.workers == 1:
        work(study, sweep, folder, trials=trials, threads=None if gpus else threads, use_wandb=not args.nowandb)
    else:
        run_workers(args, folder, url, name, threads, gpus)
    for path in write_results(folder, study, sweep):
        log.info("wrote %s", path)
    return 0


def run_workers(args: argparse.Namespace, folder: Path, url: str, name: str, threads: int, gpus: int) -> None:
    """Start ``args.workers`` worker processes (``--join``) on the study and wait for them all."""
    command = [sys.executable, "-m", "textrec_sweep.cli", str(args.sweep), "--join", "--folder", str(folder),
               "--storage", url, "--study", name, "--threads", str(threads), "--grace", str(args.grace)]
    extra = (["--trials", str(args.trials)] if args.trials else []) + (["--base", args.base] if args.base else []) \
        + (["--nowandb"] if args.nowandb else [])
    workers = []
    for index in range(args.workers):
        env = {**os.environ, **({"CUDA_VISIBLE_DEVICES": str(index % gpus)} if gpus else {})}
        seed = ["--seed", str(args.seed + index)] if args.seed is not None else []
        workers.append(subprocess.Popen([*command, *seed, *extra], env=env))
    failed = [worker.args for worker in workers if worker.wait() != 0]
    if failed:
        log.warning("%d of %d workers failed; rerun the command to continue the study", len(failed), len(workers))


if __name__ == "__main__":
    raise SystemExit(main())
