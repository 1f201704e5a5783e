#!/bin/sh
# kubelab: flannel's CNI plugin, once this node holds its subnet lease. k3s writes the CNI config as
# its agent starts, seconds before flannel writes /run/flannel/subnet.env; a pod sandbox set up in
# between fails on the missing file, and the kubelet tries it again only after its fixed 10 s
# back-off. Here an ADD waits for the lease (up to 60 s), then the plugin runs as it would have.
lease=/run/flannel/subnet.env
if [ "${CNI_COMMAND:-}" = ADD ]; then
  for _ in $(seq 1 600); do
    [ -s "$lease" ] && break
    sleep 0.1
  done
fi
exec /usr/libexec/kubelab/flannel "$@"
