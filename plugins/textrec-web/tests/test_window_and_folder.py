"""The drift window file shared by processes, and the metrics folder gunicorn's workers share."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import numpy as np
import pytest

from textrec_web.multiprocess import VARIABLE, prepare_folder, process_key, server_pid
from textrec_web.settings import SettingsError
from textrec_web.window import SharedWindow


def test_the_window_keeps_the_last_rows_in_order_and_its_flags(tmp_path):
    window = SharedWindow(tmp_path / "w.window", size=3, width=2)
    with window.locked() as view:
        assert view.count == 0 and not view.full and view.rows().shape == (0, 2)
        view.append([1, 10])
        view.append([2, 20])
        assert view.rows().tolist() == [[1, 10], [2, 20]] and not view.full
        view.set_flag(1, True)
    with window.locked() as view:
        for i in range(3, 6):
            view.append([i, 10 * i])
        assert view.full and view.count == 5
        assert view.rows().tolist() == [[3, 30], [4, 40], [5, 50]]  # oldest first, the first two pushed out
        assert (view.flag(0), view.flag(1)) == (False, True)
        with pytest.raises(ValueError, match="expected 2 numbers"):
            view.append([1, 2, 3])


def test_a_window_file_of_another_shape_is_started_afresh(tmp_path):
    path = tmp_path / "w.window"
    with SharedWindow(path, size=3, width=2).locked() as view:
        view.append([1, 2])
        view.set_flag(0, True)
    with SharedWindow(path, size=4, width=2).locked() as view:
        assert view.count == 0 and not view.flag(0)
    path.write_bytes(b"not a window at all")
    with SharedWindow(path, size=4, width=2).locked() as view:
        assert view.count == 0 and view.rows().shape == (0, 2)


APPEND = """
import sys, time
from textrec_web.window import SharedWindow

window = SharedWindow(sys.argv[1], size=50, width=1)
first = int(sys.argv[2])
while time.time() < float(sys.argv[3]):  # all start together
    time.sleep(0.001)
for i in range(first, first + 500):
    with window.locked() as view:
        view.append([i])
"""


def test_processes_appending_at_once_lose_no_row(tmp_path):
    path = tmp_path / "w.window"
    start = time.time() + 3
    processes = [subprocess.Popen([sys.executable, "-c", APPEND, str(path), str(1000 * p), str(start)])
                 for p in range(4)]
    assert [process.wait(60) for process in processes] == [0] * 4
    with SharedWindow(path, size=50, width=1).locked() as view:
        assert view.count == 2000
        rows = view.rows()[:, 0]
    assert len(set(rows)) == 50
    for p in range(4):  # each process's rows stay in its order
        own = rows[(rows >= 1000 * p) & (rows < 1000 * p + 500)]
        assert np.all(np.diff(own) > 0)


def test_a_named_metrics_folder_is_used_and_created(tmp_path):
    environ = {VARIABLE: str(tmp_path / "metrics")}
    assert prepare_folder(environ) == tmp_path / "metrics" and (tmp_path / "metrics").is_dir()
    assert environ[VARIABLE] == str(tmp_path / "metrics")


def test_without_a_named_folder_the_server_gets_its_own_and_stale_ones_go(tmp_path):
    mine = process_key(os.getpid())
    for name in ("999999999-1", f"{os.getpid()}-1", "notes", mine):  # dead, pid reused, not a server's, alive
        (tmp_path / name).mkdir()
    environ: dict[str, str] = {}
    folder = prepare_folder(environ, base=tmp_path)
    assert folder == tmp_path / process_key(server_pid()) and environ[VARIABLE] == str(folder)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted({"notes", mine, folder.name})


def test_a_metrics_folder_that_cannot_be_made_is_a_settings_error(tmp_path):
    (tmp_path / "file").write_text("")
    with pytest.raises(SettingsError, match="PROMETHEUS_MULTIPROC_DIR .* cannot create the metrics folder"):
        prepare_folder({VARIABLE: str(tmp_path / "file" / "metrics")})
