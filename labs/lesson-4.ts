import {
  corednsCorefile,
  defineLesson,
  deploymentAvailable,
  etcdVersionsByExec,
  flagsInEffect,
  kubeletConfigz,
  kubeProxyMode,
  leaderLeases,
  nodesReady,
  podsBoundToNodes,
  serviceHasReadyEndpoint,
  staticControlPlanePods,
} from '../src/index.js';

/**
 * Lesson 4, kind architecture (Kubewekend session 3): `kind create cluster --name k8s-master-machine`.
 * Unlike k3s, kubeadm runs the control plane as static pods in kube-system, which the learner
 * inspects one by one: images, flags, etcd by exec, the kubelet's live config, kube-proxy's mode,
 * CoreDNS's Corefile and who leads.
 */
export default defineLesson({
  id: 'lesson-4',
  title: 'kind architecture: the control plane as static pods',
  summary:
    'A kind cluster (one control-plane node, one worker) runs etcd, kube-apiserver, kube-controller-manager and ' +
    'kube-scheduler as static pods from /etc/kubernetes/manifests. kubelab checks each pod, the flags the course ' +
    'lists, etcd and etcdctl by exec through the API, the kubelet /configz, kube-proxy in iptables mode, the CoreDNS ' +
    'Corefile and the leader-election leases, then schedules a small Deployment through all of them.',
  cluster: {
    name: 'k8s-master-machine',
    provider: 'kind',
    servers: 1,
    agents: 1,
    ports: [],
    k3sArgs: [],
  },
  images: [{ app: 'nginx', tag: 'nginx:latest' }],
  manifests: 'lesson-4',
  namespace: 'default',
  exercise: [],
  trace: { deployment: 'web' },
  assertions: [
    nodesReady(1, 1),
    staticControlPlanePods(),
    flagsInEffect('kube-apiserver', [
      '--authorization-mode=Node,RBAC',
      '--etcd-servers=https://127.0.0.1:2379',
      '--secure-port=6443',
      '--service-cluster-ip-range=10.96.0.0/16',
      '--enable-admission-plugins=NodeRestriction',
    ]),
    flagsInEffect('kube-controller-manager', [
      '--allocate-node-cidrs=true',
      '--cluster-cidr=10.244.0.0/16',
      '--leader-elect=true',
      '--use-service-account-credentials=true',
    ]),
    flagsInEffect('kube-scheduler', ['--bind-address=127.0.0.1', '--leader-elect=true']),
    etcdVersionsByExec('3.5'),
    kubeletConfigz({ cgroupDriver: 'systemd', staticPodPath: '/etc/kubernetes/manifests' }),
    kubeProxyMode('iptables'),
    corednsCorefile(['errors', 'health', 'ready', 'kubernetes cluster.local', 'prometheus :9153', 'forward', 'cache 30', 'loop', 'reload', 'loadbalance']),
    leaderLeases(['kube-scheduler', 'kube-controller-manager']),
    deploymentAvailable('web', 'app=web'),
    podsBoundToNodes('app=web'),
    serviceHasReadyEndpoint('web', 80),
  ],
});
