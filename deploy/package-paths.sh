#!/bin/sh
# Prints the local paths (from the repository root) of the distributions in
# deploy/image-packages.txt, one per line, extras kept: textrec-core is the repository root, and
# every plugin's directory is plugins/<its distribution name>.
exec sed -e '/^#/d' -e '/^[[:space:]]*$/d' -e 's#^textrec-core#.#' -e 's#^textrec-#./plugins/textrec-#' \
  "$(dirname "$0")/image-packages.txt"
