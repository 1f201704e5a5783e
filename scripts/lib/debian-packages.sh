# Sourced by the scripts that install Debian packages; the caller defines log().
# install_debian_packages PKG...: installs them with apt (root only; exit 3 naming the sudo command
# otherwise). Call it only with packages that are missing.
install_debian_packages() {
  if [[ $(id -u) -ne 0 ]]; then
    log "missing $*: run as root, or: sudo apt-get install $*"
    exit 3
  fi
  log "installing $* (Debian packages, can take a few minutes)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "$@" >/dev/null
}
