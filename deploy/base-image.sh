#!/usr/bin/env bash
# Usage: deploy/base-image.sh [NAME]            (NAME defaults to textrec-base:bookworm)
#
# Makes a Python base image from Debian's own packages, for machines that reach Debian's archive
# but no image registry: a minimal Debian 12 (debootstrap's minbase variant) with python3,
# python3-venv and ca-certificates, imported into the Docker engine as NAME. Its Python is
# /usr/bin/python3 (3.11), the Python the image's wheels must be built for.
# Needs root (debootstrap) and a running Docker engine; DEBIAN_MIRROR overrides debootstrap's
# default mirror. Does nothing when NAME already exists.
set -euo pipefail
name=${1:-textrec-base:bookworm}
if docker image inspect "$name" >/dev/null 2>&1; then
  echo "base-image.sh: $name exists"
  exit 0
fi
if ! command -v debootstrap >/dev/null; then
  echo "base-image.sh: debootstrap is not installed (apt-get install debootstrap)" >&2
  exit 2
fi
rootfs=$(mktemp -d)
trap 'rm -rf "$rootfs"' EXIT
debootstrap --variant=minbase --include=python3,python3-venv,ca-certificates \
  bookworm "$rootfs" ${DEBIAN_MIRROR:+"$DEBIAN_MIRROR"} >"$rootfs.log" 2>&1 \
  || { tail -20 "$rootfs.log" >&2; rm -f "$rootfs.log"; echo "base-image.sh: debootstrap failed" >&2; exit 1; }
rm -f "$rootfs.log"
rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
tar -C "$rootfs" -c . | docker import --change 'CMD ["/bin/bash"]' - "$name" >/dev/null
echo "base-image.sh: made $name"
