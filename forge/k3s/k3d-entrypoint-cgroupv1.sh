#!/bin/sh
# kubelab, for cgroup v1 hosts. There docker gives a node the host's cgroup namespace: /proc/self/cgroup
# names /docker/<id> while /sys/fs/cgroup/<controllers> shows only the node's own cgroup, so k3s finds
# no cpu.cfs_period_us where it looks, turns CPU quotas off, and pods run past their CPU limits.
# Making each named path exist (a bind mount of the node's cgroup onto it) lets k3s see its
# controllers; kind's node entrypoint does the same. k3d's entrypoint runs this before k3s.
set -o errexit
set -o nounset

if [ -f /sys/fs/cgroup/cgroup.controllers ]; then
  exit 0 # cgroup v2: a node has its own namespace and nothing is hidden
fi
while IFS=: read -r _ controllers path; do
  case "$controllers" in '' | name=*) continue ;; esac
  mount_dir="/sys/fs/cgroup/$controllers"
  if [ "$path" = / ] || [ ! -d "$mount_dir" ] || mountpoint -q "$mount_dir$path"; then
    continue
  fi
  mkdir -p "$mount_dir$path"
  mount --bind "$mount_dir" "$mount_dir$path"
  echo "[$(date -Iseconds)] [kubelab cgroup v1 fix] $mount_dir$path is the node's own cgroup"
done </proc/self/cgroup
