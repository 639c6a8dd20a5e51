#!/bin/sh
# Installs the Debian packages listed in the given files (default
# deps/debian.txt) that are not yet installed. Uses sudo when not root. Does nothing when all are present.
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
[ $# -gt 0 ] || set -- deps/debian.txt
missing=""
for f in "$@"; do
  case "$f" in /*) ;; *) f="$here/$f" ;; esac
  for p in $(grep -v '^#' "$f" | sed 's/#.*//' | tr -s ' \n' ' '); do
    st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
    case "$st" in *"install ok installed"*) ;; *) missing="$missing $p" ;; esac
  done
done
[ -z "$missing" ] && exit 0
echo "linli: installing missing Debian packages:$missing"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing
