#!/usr/bin/env bash
# forge/tools.sh: build kubelab's CLI tools from the Go module proxy into kubelab's tools dir.
#
#   bash forge/tools.sh [--force] [--kubectl] [TOOL...]      TOOL: k3d kind kubectl (default: all)
#
# Tools dir: ${KUBELAB_TOOLS:-${XDG_DATA_HOME:-$HOME/.local/share}/kubelab/tools}
#   <tools>/<name>          the binary
#   <tools>/<name>.version  what it was built from, one line: module@version
# A binary whose .version matches is kept ("k3d v5.9.0: cached"); --force rebuilds it.
#
#   k3d      github.com/k3d-io/k3d/v5@v5.9.0, stamped so `k3d version` says v5.9.0
#   kind     sigs.k8s.io/kind@v0.31.0 (v0.33.0 if that one fails to build)
#   kubectl  only when `command -v kubectl` finds none (or with --kubectl), from
#            k8s.io/kubernetes/cmd/kubectl@v1.34.2; skipped with a message if it cannot be built
#
# Go's caches are private to kubelab (<tools>/../go) unless GOMODCACHE / GOCACHE are set.
# Each build's output goes to <tools>/../logs/<name>.log; a failed build exits non-zero with
# one line naming the tool and that log. Needs only Go and the Go module proxy (go env GOPROXY).
set -euo pipefail

K3D_MODULE=github.com/k3d-io/k3d/v5
K3D_VERSION=v5.9.0
# k3d's default node image tag (rancher/k3s:<tag>) when --image is not given. v1.32.5-k3s1 is the
# default compiled into k3d v5.9.0's source and the tag kubelab's forged k3s image carries.
K3D_K3S_TAG=v1.32.5-k3s1
KIND_MODULE=sigs.k8s.io/kind
KIND_VERSIONS=(v0.31.0 v0.33.0)
KUBECTL_MODULE=k8s.io/kubernetes
KUBECTL_VERSION=v1.34.2
# kubectl's own packages are published as separate modules at v0.<minor>.<patch>.
KUBECTL_STAGING_VERSION=v0.34.2

me=forge/tools.sh
usage() { sed -n '2,18p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }

force=0
kubectl_always=0
wanted=()
for arg in "$@"; do
  case "$arg" in
    --force) force=1 ;;
    --kubectl) kubectl_always=1 ;;
    -h|--help) usage; exit 0 ;;
    k3d|kind|kubectl) wanted+=("$arg") ;;
    *) echo "$me: unknown argument '$arg' (see --help)" >&2; exit 2 ;;
  esac
done
[ ${#wanted[@]} -gt 0 ] || wanted=(k3d kind kubectl)

command -v go >/dev/null 2>&1 || { echo "$me: Go is not installed (needed to build the tools)" >&2; exit 1; }

TOOLS_DIR="${KUBELAB_TOOLS:-${XDG_DATA_HOME:-$HOME/.local/share}/kubelab/tools}"
KUBELAB_DATA="$(dirname "$TOOLS_DIR")"
LOG_DIR="$KUBELAB_DATA/logs"
mkdir -p "$TOOLS_DIR" "$LOG_DIR"

export GOPATH="$KUBELAB_DATA/go"
export GOMODCACHE="${GOMODCACHE:-$GOPATH/pkg/mod}"
export GOCACHE="${GOCACHE:-$GOPATH/cache}"
# -modcacherw: the private module cache stays deletable with a plain rm -rf.
export GOFLAGS="-mod=mod -modcacherw"
export CGO_ENABLED=0
export GOWORK=off

# One run at a time per tools dir.
if command -v flock >/dev/null 2>&1; then
  exec 9>"$TOOLS_DIR/.lock"
  flock 9
fi
# Builds happen in a temp dir inside the tools dir, so that the final mv is a rename on one
# filesystem: an interrupted build leaves nothing half-written where kubelab looks for tools.
SCRATCH="$(mktemp -d "$TOOLS_DIR/.build.XXXXXX")"
trap 'rm -rf "$SCRATCH"' EXIT

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.2fs", b - a }'; }

# cached NAME SOURCE: the binary is there and was built from SOURCE.
cached() {
  [ -x "$TOOLS_DIR/$1" ] && [ -f "$TOOLS_DIR/$1.version" ] && [ "$(cat "$TOOLS_DIR/$1.version")" = "$2" ]
}

# install_from DIR NAME SOURCE: move DIR/NAME into the tools dir atomically, then write the stamp.
install_from() {
  local dir="$1" name="$2" source="$3"
  [ -x "$dir/$name" ] || return 1
  rm -f "$TOOLS_DIR/$name.version"
  mv -f "$dir/$name" "$TOOLS_DIR/$name"
  printf '%s\n' "$source" > "$dir/$name.version"
  mv -f "$dir/$name.version" "$TOOLS_DIR/$name.version"
}

new_scratch() { mktemp -d "$SCRATCH/$1.XXXXXX"; }

# `go install module@version` also asks for the module's version list, to read the newest go.mod
# for a deprecation notice, and filtered proxies answer 403 to every list. So the one version being
# built is first fetched with `go mod download` (which needs no list) and its .info, .mod and .zip
# are laid out, with a one-line list, in a file:// proxy placed before the real one. Anything else
# is not found there, which sends go on to the real proxy (dependencies, checksum database).
PINNED="$SCRATCH/proxy"
mkdir -p "$PINNED"
upstream_proxy="$(go env GOPROXY)"
export GOPROXY="file://$PINNED,$upstream_proxy"
# Module path as proxies spell it: each uppercase letter becomes '!' and its lowercase.
escape_path() { printf '%s' "$1" | sed 's/[A-Z]/!\L&/g'; }
json_field() { sed -n "s/^[[:space:]]*\"$1\": \"\(.*\)\",\{0,1\}$/\1/p" | head -n 1; }

# pin MODULE VERSION: serve MODULE@VERSION, and only it, from the file:// proxy.
pin() {
  local module="$1" version="$2" json dir f
  json="$(cd "$SCRATCH" && go mod download -json "$module@$version")" || { printf '%s\n' "$json"; return 1; }
  dir="$PINNED/$(escape_path "$module")/@v"
  mkdir -p "$dir"
  for f in Info:info GoMod:mod Zip:zip; do
    ln -sf "$(json_field "${f%%:*}" <<<"$json")" "$dir/$version.${f#*:}"
  done
  printf '%s\n' "$version" >"$dir/list"
}

# go_install NAME MODULE PACKAGE VERSION LOG [LDFLAGS]: go install PACKAGE@VERSION (PACKAGE is in
# MODULE) into the tools dir as NAME.
go_install() {
  local name="$1" module="$2" package="$3" version="$4" log="$5" ldflags="${6:-}" bin
  bin="$(new_scratch "$name")"
  {
    echo "== $(date -u +%FT%TZ) GOPROXY=$GOPROXY GOBIN=$bin go install $package@$version"
    echo "   ldflags: ${ldflags:-none}"
    pin "$module" "$version" && (cd "$bin" && GOBIN="$bin" go install -trimpath ${ldflags:+-ldflags "$ldflags"} "$package@$version")
  } >>"$log" 2>&1 || return 1
  # go install names the binary after the last path element that is not a major version suffix.
  local built; built="$(basename "${package%/v[0-9]*}")"
  [ "$built" = "$name" ] || mv "$bin/$built" "$bin/$name"
  install_from "$bin" "$name" "$package@$version"
}

build_k3d() {
  local source="$K3D_MODULE@$K3D_VERSION" log="$LOG_DIR/k3d.log"
  if [ $force = 0 ] && cached k3d "$source"; then echo "k3d $K3D_VERSION: cached"; return 0; fi
  : >"$log"
  go_install k3d "$K3D_MODULE" "$K3D_MODULE" "$K3D_VERSION" "$log" \
    "-s -w -X $K3D_MODULE/version.Version=$K3D_VERSION -X $K3D_MODULE/version.K3sVersion=$K3D_K3S_TAG" \
    || fail k3d "$source" "$log"
  echo "k3d $K3D_VERSION: built"
}

build_kind() {
  local log="$LOG_DIR/kind.log" v
  if [ $force = 0 ]; then
    for v in "${KIND_VERSIONS[@]}"; do
      if cached kind "$KIND_MODULE@$v"; then echo "kind $v: cached"; return 0; fi
    done
  fi
  : >"$log"
  for v in "${KIND_VERSIONS[@]}"; do
    if go_install kind "$KIND_MODULE" "$KIND_MODULE" "$v" "$log" "-s -w"; then echo "kind $v: built"; return 0; fi
    echo "== kind $v did not build; trying the next version" >>"$log"
  done
  fail kind "$KIND_MODULE@{${KIND_VERSIONS[*]}}" "$log"
}

# kubectl: k8s.io/kubernetes replaces its k8s.io/* requirements with ./staging directories, which
# its module zip does not carry, so `go install k8s.io/kubernetes/cmd/kubectl@v` is refused. When
# it is, cmd/kubectl/kubectl.go of that very version is built as the main package of a small module
# that requires the published k8s.io/kubectl, k8s.io/component-base and k8s.io/client-go.
build_kubectl() {
  local source="$KUBECTL_MODULE/cmd/kubectl@$KUBECTL_VERSION" log="$LOG_DIR/kubectl.log" found
  if [ $kubectl_always = 0 ] && found="$(command -v kubectl)"; then
    echo "kubectl: on PATH ($found), not built"
    return 0
  fi
  if [ $force = 0 ] && cached kubectl "$source"; then echo "kubectl $KUBECTL_VERSION: cached"; return 0; fi
  : >"$log"
  local x="-s -w" pkg
  for pkg in k8s.io/client-go/pkg/version k8s.io/component-base/version; do
    x+=" -X $pkg.gitVersion=$KUBECTL_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=34 -X $pkg.gitTreeState=clean"
  done
  if go_install kubectl "$KUBECTL_MODULE" "$KUBECTL_MODULE/cmd/kubectl" "$KUBECTL_VERSION" "$log" "$x"; then
    echo "kubectl $KUBECTL_VERSION: built"; return 0
  fi
  echo "== go install refused; building cmd/kubectl against the published k8s.io modules" >>"$log"
  if build_kubectl_shim "$log" "$x"; then echo "kubectl $KUBECTL_VERSION: built"; return 0; fi
  echo "kubectl $KUBECTL_VERSION: cannot be built from the Go module proxy here, skipped (see $log); install kubectl another way (e.g. apt-get install kubectl)"
}

build_kubectl_shim() {
  local log="$1" ldflags="$2" work dir
  work="$(new_scratch kubectl)"
  dir="$(cd "$work" && go mod download -json "$KUBECTL_MODULE@$KUBECTL_VERSION" 2>>"$log" | json_field Dir)" || return 1
  [ -n "$dir" ] && [ -f "$dir/cmd/kubectl/kubectl.go" ] || return 1
  mkdir "$work/src" && cp "$dir/cmd/kubectl/kubectl.go" "$work/src/" || return 1
  cat >"$work/src/go.mod" <<EOF
module kubelab.local/kubectl

go 1.24.0

require (
	k8s.io/client-go $KUBECTL_STAGING_VERSION
	k8s.io/component-base $KUBECTL_STAGING_VERSION
	k8s.io/kubectl $KUBECTL_STAGING_VERSION
)
EOF
  (cd "$work/src" && go mod tidy && go build -trimpath -ldflags "$ldflags" -o "$work/kubectl" .) >>"$log" 2>&1 || return 1
  install_from "$work" kubectl "$KUBECTL_MODULE/cmd/kubectl@$KUBECTL_VERSION"
}

fail() {
  echo "$me: building $1 ($2) failed; see $3" >&2
  exit 1
}

echo "tools dir: $TOOLS_DIR (go caches: GOMODCACHE=$GOMODCACHE GOCACHE=$GOCACHE)"
total="$(now)"
for tool in "${wanted[@]}"; do
  started="$(now)"
  "build_$tool"
  echo "  $tool took $(elapsed "$started")"
done
echo "all tools took $(elapsed "$total")"
