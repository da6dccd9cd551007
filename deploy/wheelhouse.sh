#!/usr/bin/env bash
# Usage: deploy/wheelhouse.sh DIR
#
# Builds into DIR (emptied first) a wheel of every distribution the image installs
# (deploy/image-packages.txt) and of everything they depend on, with constraints.txt, so that
# the image installs with pip's --no-index: no network inside the build. The wheels are for the
# Python running this script, which must be the image's (3.11 for both base images).
# torch must come as PyTorch's CPU build: pip looks for it on TEXTREC_TORCH_INDEX (default
# https://download.pytorch.org/whl/cpu); set TEXTREC_TORCH_INDEX=none where pip's own
# configuration already finds the CPU build (a --find-links folder holding it).
# The local packages are built from a copy of their sources, so that builds running in the
# checkout at the same time (tox's) are not disturbed.
set -euo pipefail
if [ $# -ne 1 ]; then
  echo "usage: deploy/wheelhouse.sh DIR" >&2
  exit 2
fi
root=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$1"
out=$(cd "$1" && pwd)
find "$out" -mindepth 1 -delete
src=$(mktemp -d)
trap 'rm -rf "$src"' EXIT
mapfile -t paths < <(sh "$root/deploy/package-paths.sh")
dirs=(setup.cfg pyproject.toml README.md textrec_core)
for path in "${paths[@]}"; do
  path=${path%%\[*}
  [ "$path" = . ] || dirs+=("${path#./}")
done
tar -C "$root" --exclude=build --exclude='*.egg-info' --exclude=__pycache__ --exclude=tests -c "${dirs[@]}" \
  | tar -C "$src" -x
index=${TEXTREC_TORCH_INDEX:-https://download.pytorch.org/whl/cpu}
extra=()
[ "$index" = none ] || extra=(--extra-index-url "$index")
cd "$src"
python3 -m pip wheel -q -c "$root/constraints.txt" "${extra[@]}" -w "$out" "${paths[@]}"
echo "wheelhouse.sh: $(find "$out" -name '*.whl' | wc -l) wheels in $out"
