#!/usr/bin/env bash
# Everything kubelab needs on a fresh Debian machine, idempotent: Debian's docker.io and
# debootstrap, a running dockerd, the npm dependencies and the compiled CLI.
# Called by ./kubelab and scripts/test.sh; safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf 'bootstrap: %s\n' "$*" >&2; }
# shellcheck source=lib/debian-packages.sh
source scripts/lib/debian-packages.sh

need_packages=()
command -v dockerd >/dev/null 2>&1 || need_packages+=(docker.io)
command -v debootstrap >/dev/null 2>&1 || need_packages+=(debootstrap)
if ((${#need_packages[@]})); then
  install_debian_packages "${need_packages[@]}"
fi

if ! docker info >/dev/null 2>&1; then
  if [[ $(id -u) -ne 0 ]]; then
    log "dockerd is not running and this is not root: start it (sudo systemctl start docker)"
    exit 3
  fi
  state="${KUBELAB_HOME:-${XDG_STATE_HOME:-$HOME/.local/state}/kubelab}"
  mkdir -p "$state"
  log "starting dockerd (log: $state/dockerd.log)"
  # Its own session: a test shell killed with its process group must not take the daemon down.
  setsid nohup dockerd >>"$state/dockerd.log" 2>&1 < /dev/null &
  # dockerd has no readiness notification outside systemd: its API answering is the condition.
  for _ in $(seq 1 240); do
    docker info >/dev/null 2>&1 && break
    sleep 0.25
  done
  docker info >/dev/null 2>&1 || { log "dockerd did not come up; see $state/dockerd.log"; exit 3; }
fi

if [[ ! -d node_modules || package-lock.json -nt node_modules/.package-lock.json ]]; then
  log "installing npm dependencies"
  npm ci --no-audit --no-fund --loglevel=error
fi

if [[ ! -f dist/src/cli/main.js ]] || [[ -n $(find src labs -newer dist/src/cli/main.js -name '*.ts' -print -quit) ]]; then
  log "compiling"
  npm run --silent build
fi

# k3d and kind nodes are privileged containers. Where the capability bounding set lacks
# CAP_SYS_RESOURCE (bit 24) runc cannot start them; `kubelab doctor --fix` then installs a runc
# wrapper as dockerd's default runtime (README, Host fixes). Checked in bash: no node start-up cost.
capbnd=$(awk '/^CapBnd:/ {print $2}' /proc/self/status)
if (( (16#${capbnd:-ffffffffff} >> 24 & 1) == 0 )) && [[ $(id -u) -eq 0 ]] &&
  [[ $(docker info --format '{{.DefaultRuntime}}' 2>/dev/null) != kubelab-runc ]]; then
  log "this host cannot grant CAP_SYS_RESOURCE: applying kubelab doctor --fix"
  node bin/kubelab.js doctor --fix >&2 || true
fi
