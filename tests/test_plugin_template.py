"""The plugin template and its copy command, ``plugins/_template/new_plugin.py``."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "plugins" / "_template" / "new_plugin.py"


def new_plugin(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, SCRIPT, *map(str, args)], capture_output=True, text=True)


@pytest.fixture(scope="module")
def plugin(tmp_path_factory) -> Path:
    """A plugin ``iam-ondb`` made from the template in a directory of its own."""
    plugins = tmp_path_factory.mktemp("plugins")
    result = new_plugin("iam-ondb", "--plugins-dir", plugins)
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"created {plugins / 'textrec-iam-ondb'}\n"
    return plugins / "textrec-iam-ondb"


def test_copy_has_the_plugin_layout_with_every_placeholder_filled_in(plugin):
    files = sorted(path.relative_to(plugin).as_posix() for path in plugin.rglob("*") if path.is_file())
    assert files == [
        "pyproject.toml",
        "tests/test_plugin.py",
        "textrec_iam_ondb/__init__.py",
        "textrec_iam_ondb/network.py",
        "textrec_iam_ondb/plugin.py",
    ]
    assert not [path for path in plugin.rglob("*") if path.is_file() and "PLUGINNAME" in path.read_text()]
    assert 'name="textrec-iam-ondb"' in (plugin / "tests" / "test_plugin.py").read_text()


def test_copy_declares_distribution_package_and_entry_point(plugin):
    tomllib = pytest.importorskip("tomllib", reason="tomllib is in the standard library from Python 3.11")
    pyproject = tomllib.loads((plugin / "pyproject.toml").read_text())
    assert pyproject["project"]["name"] == "textrec-iam-ondb"
    assert pyproject["project"]["dependencies"] == ["textrec-core", "torch"]
    assert pyproject["project"]["entry-points"]["textrec"] == {"iam_ondb": "textrec_iam_ondb.plugin"}
    assert pyproject["tool"]["setuptools"]["packages"] == ["textrec_iam_ondb"]


def test_copy_passes_its_own_first_test(plugin):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(plugin), os.environ.get("PYTHONPATH")]))}
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"],
        cwd=plugin, env=env, capture_output=True, text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "4 passed" in result.stdout


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("textrec-iam", "leave out the textrec- prefix"),
        ("IAM", "must be lowercase letters and digits"),
        ("iam_ondb", "must be lowercase letters and digits"),
        ("iam--ondb", "must be lowercase letters and digits"),
        ("iam-", "must be lowercase letters and digits"),
        ("2iam", "must be lowercase letters and digits"),
        ("", "must be lowercase letters and digits"),
        ("core", "'core' is taken by a tox environment"),
    ],
)
def test_bad_names_are_refused_with_exit_2_and_nothing_written(tmp_path, name, problem):
    result = new_plugin(name, "--plugins-dir", tmp_path)
    assert result.returncode == 2
    assert f"new_plugin.py: error: bad plugin name {name!r}: {problem}" in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_an_existing_plugin_is_left_alone(tmp_path):
    (tmp_path / "textrec-iam").mkdir()
    (tmp_path / "textrec-iam" / "mine.txt").write_text("mine")
    result = new_plugin("iam", "--plugins-dir", tmp_path)
    assert result.returncode == 2
    assert f"{tmp_path / 'textrec-iam'} already exists" in result.stderr
    assert [path.name for path in (tmp_path / "textrec-iam").iterdir()] == ["mine.txt"]
