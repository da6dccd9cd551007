#!/usr/bin/env python3
"""Create a textrec plugin from this template: ``python plugins/_template/new_plugin.py NAME``.

NAME is the plugin's name without the ``textrec-`` prefix: lowercase letters and digits, words
joined by single hyphens, starting with a letter (``iam``, ``iam-ondb``). The template is copied to
``plugins/textrec-NAME`` (``--plugins-dir`` chooses another parent directory): in every file and
path, ``textrec-PLUGINNAME`` becomes the distribution name ``textrec-NAME`` and every other
``PLUGINNAME`` becomes NAME with hyphens as underscores (package ``textrec_NAME``, entry point
``NAME``). tox and CircleCI find the new plugin by its directory; no other file needs an edit.

Exit status 0 after printing the new directory; 2, with a message, for a bad NAME, a missing
plugins directory or a target that exists (nothing is written then).
"""

from __future__ import annotations

import argparse
import re
import shutil
from pathlib import Path

TEMPLATE = Path(__file__).resolve().parent
PLACEHOLDER = "PLUGINNAME"
NAME = re.compile(r"[a-z][a-z0-9]*(-[a-z0-9]+)*")
#: Names taken by tox environments (tox.ini): a plugin's environment is named after the plugin.
RESERVED = frozenset({"all", "core", "lint"})
#: Template files that are not part of a plugin.
NOT_COPIED = shutil.ignore_patterns(Path(__file__).name, "conftest.py", "__pycache__", "*.pyc", "*.egg-info")


def name_problem(name: str) -> str | None:
    """Why ``name`` cannot name a plugin, or None if it can."""
    if name.startswith(("textrec-", "textrec_")):
        return "leave out the textrec- prefix: the directory and the distribution add it"
    if not NAME.fullmatch(name):
        return "must be lowercase letters and digits, words joined by single hyphens, starting with a letter (iam-ondb)"
    if name in RESERVED:
        return f"{name!r} is taken by a tox environment ({', '.join(sorted(RESERVED))})"
    return None


def create_plugin(name: str, plugins_dir: Path) -> Path:
    """Copy the template to ``plugins_dir/textrec-<name>`` with ``name`` filled in; return that directory.

    ``name`` must be valid (:func:`name_problem`); raises ``FileExistsError`` if the target exists.
    """
    target = plugins_dir / f"textrec-{name}"
    shutil.copytree(TEMPLATE, target, ignore=NOT_COPIED)
    module_name = name.replace("-", "_")
    for path in sorted(target.rglob("*"), reverse=True):  # a directory's contents before the directory
        if path.is_file():
            text = path.read_text(encoding="utf-8")
            text = text.replace(f"textrec-{PLACEHOLDER}", f"textrec-{name}").replace(PLACEHOLDER, module_name)
            path.write_text(text, encoding="utf-8")
        if PLACEHOLDER in path.name:
            path.rename(path.with_name(path.name.replace(PLACEHOLDER, module_name)))
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Create plugins/textrec-NAME from the plugin template.")
    parser.add_argument("name", metavar="NAME", help="the plugin's name without textrec-, e.g. iam-ondb")
    parser.add_argument("--plugins-dir", type=Path, default=TEMPLATE.parent, help="where to create it (plugins/)")
    args = parser.parse_args(argv)
    if problem := name_problem(args.name):
        parser.error(f"bad plugin name {args.name!r}: {problem}")
    if not args.plugins_dir.is_dir():
        parser.error(f"no such directory: {args.plugins_dir}")
    try:
        target = create_plugin(args.name, args.plugins_dir)
    except FileExistsError as error:
        parser.error(f"{error.filename} already exists")
    print(f"created {target}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
