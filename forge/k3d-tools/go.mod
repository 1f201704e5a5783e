module kubelab.dev/k3d-tools

go 1.22
