#!/usr/bin/env bash
# Usage: deploy/build-image.sh [--tag NAME] [--base-image IMAGE] [--offline]
#
# Builds the serving image from the repository's Dockerfile and prints its name and size.
#   --tag NAME          the image's name (default textrec-web:latest)
#   --base-image IMAGE  the image to build on (default python:3.11-slim, pulled from a registry;
#                       with --offline, textrec-base:bookworm, made by deploy/base-image.sh
#                       when it does not exist)
#   --offline           build with no network inside the build: the wheels are built on this
#                       machine first (deploy/wheelhouse.sh, into deploy/wheelhouse/) and the
#                       image installs only those. Where no registry is reachable, this is the
#                       way; it needs root and debootstrap for the base image.
# Without --offline the image installs from the package index, the normal way.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
tag=textrec-web:latest
base=
offline=0
while [ $# -gt 0 ]; do
  case $1 in
    --tag) tag=${2:?--tag needs a name}; shift 2 ;;
    --base-image) base=${2:?--base-image needs an image}; shift 2 ;;
    --offline) offline=1; shift ;;
    -h|--help) sed -n '2,14s/^# \{0,1\}//p' "$0"; exit 0 ;;
    *) echo "build-image.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
if ! docker info >/dev/null 2>&1; then
  echo "build-image.sh: no Docker engine answers (docker info failed): start dockerd first" >&2
  exit 2
fi
args=()
if [ "$offline" = 1 ]; then
  base=${base:-textrec-base:bookworm}
  [ "$base" != textrec-base:bookworm ] || "$root/deploy/base-image.sh" "$base"
  "$root/deploy/wheelhouse.sh" "$root/deploy/wheelhouse"
  args+=(--build-arg WHEELHOUSE=deploy/wheelhouse)
fi
[ -z "$base" ] || args+=(--build-arg "BASE_IMAGE=$base")
docker build "${args[@]}" -t "$tag" "$root"
docker image prune --force --filter label=textrec.build-stage=install >/dev/null
echo "build-image.sh: built $tag ($(docker image inspect -f '{{.Size}}' "$tag" | awk '{printf "%.0f MB", $1 / 1e6}'))"
