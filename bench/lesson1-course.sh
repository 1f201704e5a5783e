#!/usr/bin/env bash
# Lesson 1 as the course types it, one command after the other: the baseline bench/lesson1 measures
# kubelab against. Same forged images as kubelab (k3d's --image, kubelab's Debian Python base), its
# own kubeconfig file (never ~/.kube/config), and the cluster deleted at the end, as kubelab does.
#   bench/lesson1-course.sh NODE_IMAGE BASE_IMAGE
set -euo pipefail
node_image=$1 base_image=$2
root="$(cd "$(dirname "$0")/.." && pwd)"
k3d="${K3D:-k3d}"
work=$(mktemp -d)
export KUBECONFIG="$work/kubeconfig"
trap '"$k3d" cluster delete yadoc-exposed >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
# "phase NAME" on stderr as each phase starts (and "phase end"): bench/lesson1 times them.
phase() { printf 'phase %s %s\n' "$1" "$(date +%s%3N)" >&2; }

phase provision
"$k3d" cluster create yadoc-exposed -p "8081:80@loadbalancer" --agents 3 --image "$node_image" \
  --kubeconfig-update-default=false --wait
"$k3d" kubeconfig write yadoc-exposed --output "$KUBECONFIG" >/dev/null
phase build
docker build -q -t myapp:latest --build-arg "BASE_IMAGE=$base_image" "$root/apps/hello"
phase import
"$k3d" image import myapp:latest -c yadoc-exposed
phase apply
kubectl apply -f "$root/manifests/lesson-1/deployment.yaml"
kubectl apply -f "$root/manifests/lesson-1/service.yaml"
kubectl apply -f "$root/manifests/lesson-1/ingress.yaml"
phase verify
kubectl wait --for=condition=available deployment/myapp --timeout=300s
# The course opens http://myapp.local:8081 in a browser; a script retries curl until Traefik routes it.
for _ in $(seq 1 300); do
  if curl -fsS -H 'Host: myapp.local' http://127.0.0.1:8081/ | grep -q 'I am watching you, Marius N'; then
    echo "answered"
    phase delete
    "$k3d" cluster delete yadoc-exposed >/dev/null
    phase end
    exit 0
  fi
  sleep 1
done
echo "no answer from 127.0.0.1:8081 (Host: myapp.local)" >&2
exit 1
