#!/bin/sh
# Installs the web pages' front-end libraries (Leaflet, Apache ECharts) and
# the browser tests' driver (playwright-core) from the npm registry, as
# web/package-lock.json pins them, and copies the files the pages load into
# web/vendor/. Neither web/node_modules nor web/vendor is committed.
# Installs Debian's Node.js and npm first when no node or npm is on PATH.
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
web="$here/web"
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  echo "linli: installing Node.js and npm (Debian packages) for the web pages"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends nodejs npm
fi
stamp="$web/node_modules/.linli-lock"
if [ ! -f "$stamp" ] || ! cmp -s "$web/package-lock.json" "$stamp"; then
  echo "linli: installing the web pages' libraries from npm (web/package-lock.json)"
  (cd "$web" && npm ci --no-audit --no-fund --loglevel=error)
  cp "$web/package-lock.json" "$stamp"
fi
# What the pages load, under /vendor/ (linlid serves web/ at /).
v="$web/vendor"
mkdir -p "$v/leaflet/images" "$v/echarts"
nm="$web/node_modules"
for f in leaflet.js leaflet.css; do
  cmp -s "$nm/leaflet/dist/$f" "$v/leaflet/$f" || cp "$nm/leaflet/dist/$f" "$v/leaflet/$f"
done
for f in "$nm"/leaflet/dist/images/*.png; do
  cmp -s "$f" "$v/leaflet/images/$(basename "$f")" || cp "$f" "$v/leaflet/images/"
done
# ECharts' "common" build (bar, line, pie, scatter, ...: what the dashboard
# draws) is 0.7 MB against 1.1 MB for the whole library.
for f in echarts.common.min.js echarts.min.js; do
  cmp -s "$nm/echarts/dist/$f" "$v/echarts/$f" || cp "$nm/echarts/dist/$f" "$v/echarts/$f"
done
# The libraries' licences travel with them.
cp "$nm/leaflet/LICENSE" "$v/leaflet/LICENSE" 2>/dev/null || true
cp "$nm/echarts/LICENSE" "$v/echarts/LICENSE" 2>/dev/null || true
