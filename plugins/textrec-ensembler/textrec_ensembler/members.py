"""Training an ensemble's members in one go: one experiment config, ``k`` seeds, the machine shared.

Member ``i`` is the config with ``train_args.seed`` raised by ``i`` (the config's seed, default 0,
plus ``i``), trained by ``textrec-run --save`` in its own process, its run folder under
``OUT/members/<i>/runs/`` and its output in ``OUT/members/<i>/train.log``. A member whose bundle is
already there is not trained again, so rerunning an interrupted command continues it.

Sharing the machine (:func:`plan`): with CUDA devices, one member per device at a time; on the CPU,
``parallel`` members at a time, each with ``cores // parallel`` torch threads (``num_threads``),
by default as many members as give each :data:`MEMBER_THREADS` threads. Memory is each member's
own: members that need ``m`` GB each need ``parallel * m`` GB in all.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import time
from collections.abc import Callable
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from pathlib import Path
from typing import Any

import attrs
import torch
from tqdm import tqdm

from textrec_core.bundle import META_FILE
from textrec_core.config import read_config
from textrec_core.errors import ConfigError, TextrecError

log = logging.getLogger("textrec")

#: Torch threads a CPU member gets when the number in parallel is left to :func:`plan`: one member
#: per core trains more members per hour than members in turn on all cores (benchmarks/bench_members.py).
MEMBER_THREADS = 1
MEMBERS_DIR = "members"
LOG_FILE = "train.log"


@attrs.frozen
class Plan:
    """How members share the machine: ``parallel`` at a time, each with ``threads`` torch threads,
    slot ``j`` on CUDA device ``gpus[j]`` (CPU when ``gpus`` is empty)."""

    parallel: int
    threads: int
    gpus: tuple[int, ...] = ()


def plan(members: int, parallel: int | None = None, *, cores: int | None = None,
         gpus: int | None = None) -> Plan:
    """The :class:`Plan` for ``members`` members on ``cores`` CPU cores (default: those this process
    may use) and ``gpus`` CUDA devices (default: those torch sees). ``parallel`` overrides how many
    run at once; :class:`ConfigError` when it is below 1."""
    if parallel is not None and parallel < 1:
        raise ConfigError("--parallel", f"must be at least 1, got {parallel}")
    cores = cores if cores is not None else len(os.sched_getaffinity(0))
    gpus = gpus if gpus is not None else torch.cuda.device_count()
    if parallel is None:
        parallel = gpus if gpus else cores // MEMBER_THREADS
    parallel = max(1, min(parallel, members))
    return Plan(parallel, max(1, cores // parallel), tuple(range(gpus))[:parallel] if gpus else ())


def member_config(config: dict[str, Any], index: int, threads: int) -> dict[str, Any]:
    """Member ``index``'s config: ``config`` with its seed raised by ``index`` and ``num_threads`` set."""
    train_args = dict(config.get("train_args") or {})
    train_args["seed"] = int(train_args.get("seed", 0)) + index
    train_args["num_threads"] = threads
    return {**config, "train_args": train_args}


def saved_bundle(folder: Path) -> Path | None:
    """The bundle a finished member left in ``folder/runs/*/model``, or None."""
    found = sorted(folder.glob(f"runs/*/model/{META_FILE}"))
    return found[-1].parent if found else None


def train_member(config: dict[str, Any], folder: Path, gpu: int | None, use_wandb: bool) -> Path:
    """Train one member with ``textrec-run --save`` in a subprocess; its bundle's path.
    :class:`TextrecError` naming the log when the run fails."""
    folder.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, "-m", "textrec_core.cli", "--save", "--quiet", "--gpu", str(-1 if gpu is None else gpu)]
    if not use_wandb:
        command.append("--nowandb")
    env = {**os.environ, "TEXTREC_RUNS_DIR": str(folder / "runs")}
    with open(folder / LOG_FILE, "w", encoding="utf-8") as output:
        done = subprocess.run([*command, json.dumps(config)], stdout=output, stderr=subprocess.STDOUT, env=env,
                              check=False)
    bundle = saved_bundle(folder)
    if done.returncode != 0 or bundle is None:
        tail = (folder / LOG_FILE).read_text(encoding="utf-8", errors="replace").strip().splitlines()[-3:]
        raise TextrecError(f"member {folder.name} failed (exit status {done.returncode}); its log "
                           f"{folder / LOG_FILE} ends: {' | '.join(tail)}")
    return bundle


def train_members(config_source: str, out: Path, members: int, *, parallel: int | None = None,
                  use_wandb: bool = True, progress: bool = True,
                  check: Callable[[str], Any] | None = None) -> list[Path]:
    """Train ``members`` members of the experiment ``config_source`` (a JSON object or a .json/.yaml
    file) under ``out/members/``; their bundles, in member order.

    ``check`` (e.g. :func:`textrec_core.experiment.check_experiment`) validates the config first, so
    a bad one fails before any member starts. :class:`ConfigError` for fewer than two members.
    """
    if members < 2:
        raise ConfigError("--members", f"an ensemble needs two or more members, got {members}")
    data = read_config(config_source)
    if not isinstance(data, dict):
        raise ConfigError("", f"the config must be a JSON object, got {type(data).__name__}")
    if check is not None:
        check(json.dumps(data))
    layout = plan(members, parallel)
    folders = [out / MEMBERS_DIR / str(index) for index in range(members)]
    bundles: dict[int, Path] = {i: b for i, f in enumerate(folders) if (b := saved_bundle(f)) is not None}
    todo = [index for index in range(members) if index not in bundles]
    where = f"on CUDA devices {list(layout.gpus)}" if layout.gpus else "on the CPU"
    log.info("%d members (%d already trained): %d at a time, %d torch threads each, %s", members, len(bundles),
             layout.parallel, layout.threads, where)
    free_slots = list(range(layout.parallel))
    started = time.monotonic()
    with ThreadPoolExecutor(layout.parallel) as pool, tqdm(total=members, initial=len(bundles), unit="member",
                                                            desc="members", disable=not progress) as bar:
        def run(index: int) -> Path:
            slot = free_slots.pop()
            try:
                gpu = layout.gpus[slot] if layout.gpus else None
                return train_member(member_config(data, index, layout.threads), folders[index], gpu, use_wandb)
            finally:
                free_slots.append(slot)

        futures = {pool.submit(run, index): index for index in todo}
        pending = set(futures)
        while pending:
            done, pending = wait(pending, return_when=FIRST_EXCEPTION)
            for future in done:
                if future.exception() is not None:
                    for other in pending:
                        other.cancel()
                    raise future.exception()
                bundles[futures[future]] = future.result()
                bar.update(1)
                log.info("member %d trained (%.0f min so far): %s", futures[future],
                         (time.monotonic() - started) / 60, future.result())
    return [bundles[index] for index in range(members)]

