#!/usr/bin/env bash
# A PNG of a local HTML file (e.g. kubelab's HTML report), taken by headless Chromium.
# Usage: scripts/screenshot.sh FILE.html OUT.png [WIDTH HEIGHT]   (default 1200 x 2400)
# Installs Debian's chromium when it is missing (root only). Exit 2: bad arguments; 3: no chromium.
set -euo pipefail

log() { printf 'screenshot: %s\n' "$*" >&2; }
# shellcheck source=lib/debian-packages.sh
source "$(dirname "$0")/lib/debian-packages.sh"

if [[ $# -ne 2 && $# -ne 4 ]]; then
  log "usage: $0 FILE.html OUT.png [WIDTH HEIGHT]"
  exit 2
fi
input=$1 output=$2 width=${3:-1200} height=${4:-2400}
if [[ ! -f $input ]]; then
  log "no such file: $input"
  exit 2
fi
if [[ ! $width =~ ^[0-9]+$ || ! $height =~ ^[0-9]+$ ]]; then
  log "WIDTH and HEIGHT are pixels, got '$width' and '$height'"
  exit 2
fi

chromium=/usr/bin/chromium
if [[ ! -x $chromium ]]; then
  install_debian_packages chromium
fi

# Chromium resolves file:// URLs only from absolute paths, and writes the PNG relative to its own cwd.
absolute_input=$(realpath "$input")
absolute_output=$(realpath -m "$output")
mkdir -p "$(dirname "$absolute_output")"
# A throwaway profile: headless Chromium as root must not touch (or be locked out by) a shared one.
profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT
"$chromium" --headless --no-sandbox --disable-gpu --hide-scrollbars --user-data-dir="$profile" \
  --window-size="$width,$height" --screenshot="$absolute_output" "file://$absolute_input" 2>"$profile/chromium.log" || {
  log "chromium failed:"
  cat "$profile/chromium.log" >&2
  exit 1
}
[[ -s $absolute_output ]] || { log "chromium wrote no screenshot"; cat "$profile/chromium.log" >&2; exit 1; }
log "wrote $absolute_output (${width}x${height})"
