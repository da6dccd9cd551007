"""The folder gunicorn's workers share their metrics and their drift window in.

prometheus_client's multiprocess mode keeps each process's counters and histograms in files of
the folder named by ``PROMETHEUS_MULTIPROC_DIR``, and ``/metrics`` adds up the files of every
process, so any worker answers with the whole server's counts. The library reads the variable
when it is first imported: :mod:`textrec_web.wsgi` calls :func:`prepare_folder` before that.
The drift window (:mod:`textrec_web.window`) is a file of the same folder.

- ``PROMETHEUS_MULTIPROC_DIR`` set: that folder, created if missing. prometheus_client's rule
  holds: it must be empty when the server starts (the files of an earlier run would count again),
  so the start script wipes it.
- Unset: a folder of this server's own, ``<tempdir>/textrec-web-metrics-<uid>/<pid>-<start>``
  for the server's main process: gunicorn's master, that is the parent process when its command
  line names gunicorn (this process is one of its workers), else this process (the master under
  ``--preload``, whose workers inherit the variable; or a server of one process). ``<start>`` is
  that process's start time, so a folder left by an earlier process with the same pid is never
  taken over; folders there of servers no longer running are removed. Start times and command
  lines come from ``/proc`` (Linux); elsewhere the folder is named by the parent's pid alone and
  nothing is removed.

This module must not import prometheus_client.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from collections.abc import MutableMapping
from pathlib import Path

from textrec_web.settings import SettingsError

VARIABLE = "PROMETHEUS_MULTIPROC_DIR"
PROC = Path("/proc")
SERVER_FOLDER = re.compile(r"(\d+)(-\d+)?")


def prepare_folder(environ: MutableMapping[str, str] | None = None, base: Path | None = None) -> Path:
    """The metrics folder of this server (module docstring), created, and named in ``environ``
    (default ``os.environ``) as ``PROMETHEUS_MULTIPROC_DIR``; ``base`` replaces the default
    ``<tempdir>/textrec-web-metrics-<uid>``. :class:`SettingsError` when it cannot be created."""
    environ = os.environ if environ is None else environ
    given = environ.get(VARIABLE, "").strip()
    if given:
        folder = Path(given)
    else:
        base = base if base is not None else Path(tempfile.gettempdir()) / f"textrec-web-metrics-{os.getuid()}"
        folder = base / process_key(server_pid())
        if base.is_dir():
            remove_stale(base)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise SettingsError(f"{VARIABLE} {str(folder)!r}: cannot create the metrics folder: "
                            f"{exc.strerror or exc}") from None
    environ[VARIABLE] = str(folder)
    return folder


def server_pid() -> int:
    """The server's main process: the parent when it runs gunicorn (or cannot be told), else this one."""
    parent = os.getppid()
    command = command_line(parent)
    return parent if command is None or "gunicorn" in command else os.getpid()


def command_line(pid: int) -> str | None:
    """The command line of process ``pid``, None when unknown (no ``/proc``, no such process)."""
    try:
        return (PROC / str(pid) / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return None


def process_key(pid: int) -> str:
    """``<pid>-<start time in clock ticks after boot>``, or ``<pid>`` where the start time is unknown."""
    try:
        stat = (PROC / str(pid) / "stat").read_text()
    except OSError:
        return str(pid)
    return f"{pid}-{stat.rsplit(')', 1)[1].split()[19]}"  # field 22, counting from the pid


def remove_stale(base: Path) -> None:
    """Remove the folders in ``base`` of servers that no longer run (their pid and start time no
    longer match a process)."""
    for entry in base.iterdir():
        match = SERVER_FOLDER.fullmatch(entry.name)
        if match and match.group(2) and entry.is_dir() and process_key(int(match.group(1))) != entry.name:
            shutil.rmtree(entry, ignore_errors=True)
