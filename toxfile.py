"""tox 4 inline plugin: textrec's test environments follow from the ``plugins/textrec-*`` directories.

tox loads this file because it sits beside ``tox.ini``; it adds the settings ``tox.ini`` builds on:

- ``textrec_plugin_envs`` (core): the environment names, comma-separated: ``<name>`` for each
  directory ``plugins/textrec-<name>``, sorted. ``env_list`` starts with it, so adding a plugin
  directory adds its environment to ``tox run``, ``tox run-parallel``, ``tox -l`` and CI;
  ``plugins/_template``, like any directory not named ``textrec-*``, is no plugin.
- ``textrec_all_plugins`` (core): pip arguments, one shell-quoted string, installing every plugin.
- ``textrec_uv`` (core): the uv executable installed beside tox (or else on ``PATH``), which the
  environments install with.
- ``textrec_needs`` (every environment): the plugins the environment tests; by default, in the
  environment of a plugin, that plugin, and none in any other environment; ``tox.ini`` may name others.
- ``textrec_plugins`` (every environment): pip arguments installing the ``textrec_needs`` plugins
  and every local plugin they need; empty where they are none.

No index has the ``textrec-*`` distributions, so pip must be handed each local one an install needs
by path. A plugin is installed with its ``test`` extra where it defines one, and what it needs is
the closure of the ``textrec-*`` requirements of its ``[project] dependencies`` and of the extras
it is installed with, read from each ``pyproject.toml``. A plugin's directory must be named after
its distribution's normalized name (``plugins/textrec-foo-bar`` holds ``textrec-foo-bar``).
"""

from __future__ import annotations

import functools
import shlex
import shutil
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from tox.config.main import Config
from tox.config.sets import ConfigSet, EnvConfigSet
from tox.plugin import impl

if sys.version_info >= (3, 11):
    import tomllib
else:  # tox itself depends on tomli before Python 3.11
    import tomli as tomllib

PREFIX = "textrec-"
TEST_EXTRA = "test"


@dataclass(frozen=True)
class LocalPlugin:
    """One ``plugins/textrec-*`` directory: where it is and what its ``pyproject.toml`` requires."""

    path: Path
    dependencies: tuple[Requirement, ...]
    extras: Mapping[str, tuple[Requirement, ...]]

    def requirements(self, extras: Iterable[str]) -> tuple[Requirement, ...]:
        """The requirements of an install with ``extras`` (each must be one the plugin defines)."""
        return self.dependencies + tuple(req for extra in extras for req in self.extras[extra])


@functools.cache
def local_plugins(plugins_dir: Path) -> dict[str, LocalPlugin]:
    """The plugins under ``plugins_dir`` by canonical distribution name, sorted by name.

    Raises ``ValueError`` for a directory not named after the (normalized) name of the distribution
    its ``pyproject.toml`` declares.
    """
    plugins: dict[str, LocalPlugin] = {}
    for path in sorted(plugins_dir.glob(f"{PREFIX}*/pyproject.toml")):
        project = tomllib.loads(path.read_text(encoding="utf-8"))["project"]
        name = canonicalize_name(project["name"])
        if name != path.parent.name:
            raise ValueError(f"{path} names the distribution {project['name']!r}: its directory must be {name!r}")
        plugins[name] = LocalPlugin(
            path=path.parent,
            dependencies=tuple(map(Requirement, project.get("dependencies", ()))),
            extras={
                extra: tuple(map(Requirement, reqs)) for extra, reqs in project.get("optional-dependencies", {}).items()
            },
        )
    return plugins


def install_args(plugins: Mapping[str, LocalPlugin], names: Iterable[str]) -> str:
    """pip arguments (shell-quoted) installing the plugins ``names`` and every local plugin they need.

    Each of ``names`` is installed with its ``test`` extra where it has one; a needed plugin gets the
    extras its requirements ask for; what a plugin needs, it needs transitively. The arguments are
    sorted by distribution name.
    """
    wanted: dict[str, set[str]] = {}
    pending = [(name, {TEST_EXTRA} & plugins[name].extras.keys()) for name in names]
    while pending:
        name, extras = pending.pop()
        if name in wanted and extras <= wanted[name]:
            continue
        wanted.setdefault(name, set()).update(extras)
        for req in plugins[name].requirements(extras):
            if (needed := canonicalize_name(req.name)) in plugins:
                pending.append((needed, set(req.extras)))
    return shlex.join(
        str(plugins[name].path) + (f"[{','.join(sorted(extras))}]" if extras else "")
        for name, extras in sorted(wanted.items())
    )


def _plugins(conf: Config) -> dict[str, LocalPlugin]:
    return local_plugins(conf.core["tox_root"] / "plugins")


def uv_executable() -> str:
    """The uv installed beside tox (the ``uv`` package's binary), else the one on ``PATH``."""
    try:
        import uv
    except ImportError:
        found = shutil.which("uv")
    else:
        found = uv.find_uv_bin()
    if not found:
        raise ValueError("textrec's tox environments install with uv: install it beside tox (pip install tox uv)")
    return found


@impl
def tox_add_core_config(core_conf: ConfigSet) -> None:
    """Add ``textrec_plugin_envs``, ``textrec_all_plugins`` and ``textrec_uv`` to the core settings."""
    core_conf.add_config(
        keys="textrec_plugin_envs",
        of_type=str,
        default=lambda conf, _: ", ".join(name.removeprefix(PREFIX) for name in _plugins(conf)),
        desc="one environment per plugins/textrec-<name> directory, named <name> (toxfile.py)",
    )
    core_conf.add_config(
        keys="textrec_all_plugins",
        of_type=str,
        default=lambda conf, _: install_args(_plugins(conf), _plugins(conf)),
        desc="pip arguments installing every plugin under plugins/ (toxfile.py)",
    )
    core_conf.add_config(
        keys="textrec_uv",
        of_type=str,
        default=lambda conf, _: uv_executable(),
        desc="the uv executable the environments install with (toxfile.py)",
    )


@impl
def tox_add_env_config(env_conf: EnvConfigSet) -> None:
    """Add ``textrec_needs`` and ``textrec_plugins`` to an environment's settings."""

    def needs(conf: Config, env_name: str | None) -> list[str]:
        name = canonicalize_name(f"{PREFIX}{env_name}")
        return [name] if name in _plugins(conf) else []

    def install(conf: Config, env_name: str | None) -> str:
        plugins = _plugins(conf)
        names = [canonicalize_name(name) for name in env_conf["textrec_needs"]]
        if unknown := [name for name in names if name not in plugins]:
            raise ValueError(f"textrec_needs of {env_name}: no plugins/ directory holds {', '.join(unknown)}")
        return install_args(plugins, names)

    env_conf.add_config(
        keys="textrec_needs",
        of_type=list[str],
        default=needs,
        desc="the plugins this environment tests (default: plugins/textrec-<env name> where it exists)",
    )
    env_conf.add_config(
        keys="textrec_plugins",
        of_type=str,
        default=install,
        desc="pip arguments installing the textrec_needs plugins and the local plugins they need (toxfile.py)",
    )
