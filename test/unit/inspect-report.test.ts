import { describe, expect, test } from '@jest/globals';
import { locateComponents, type ComponentInputs } from '../../src/inspect/components.js';
import { datastoreComponent, detectDatastore, parseDbInfo } from '../../src/inspect/datastore.js';
import { columns, formatControlPlaneReport } from '../../src/inspect/format.js';
import { kubeProxyModes } from '../../src/inspect/kube-proxy.js';
import { parseNodeArgs } from '../../src/inspect/node-args.js';
import type { ControlPlaneReport, NodeFacts, PodFacts } from '../../src/inspect/types.js';

function node(name: string, args: string[] | undefined, extra: Partial<NodeFacts> = {}): NodeFacts {
  return {
    name,
    roles: [],
    ready: true,
    kubeletVersion: 'v1.32.0+k3s1',
    containerRuntime: 'containerd://1.7.23-k3s2',
    osImage: 'Debian GNU/Linux 12 (bookworm)',
    kernel: '5.15.0',
    internalIP: '172.18.0.2',
    labels: {},
    annotations: { 'flannel.alpha.coreos.com/backend-type': 'vxlan' },
    ...(args ? { k3sArgs: parseNodeArgs(JSON.stringify(args)) } : {}),
    ...extra,
  };
}

const etcdServer = node('k3d-demo-server-0', ['server', '--cluster-init', '--tls-san', '0.0.0.0'], {
  roles: ['control-plane', 'etcd', 'master'],
  providerID: 'k3s://k3d-demo-server-0',
  labels: { 'node-role.kubernetes.io/etcd': 'true', 'node-role.kubernetes.io/control-plane': 'true' },
  annotations: {
    'etcd.k3s.cattle.io/node-name': 'k3d-demo-server-0-1a2b3c4d',
    'etcd.k3s.cattle.io/node-address': '172.18.0.2',
    'flannel.alpha.coreos.com/backend-type': 'vxlan',
  },
});
const agent = node('k3d-demo-agent-0', ['agent', '--kube-proxy-arg', 'proxy-mode=ipvs'], { internalIP: '172.18.0.4' });

const pod = (name: string, labels: Record<string, string> = {}, image = 'rancher/mirrored-coredns-coredns:1.12.0'): PodFacts => ({
  name,
  namespace: 'kube-system',
  node: 'k3d-demo-server-0',
  phase: 'Running',
  labels,
  containers: [{ name: name.split('-')[0]!, image, repository: image.split(':')[0]!, tag: image.split(':')[1], command: [], args: ['-conf', '/etc/coredns/Corefile'] }],
});
const k3sPods = [pod('coredns-ccb96694c-x2x9d', { 'k8s-app': 'kube-dns' }), pod('traefik-5kq2p', { 'app.kubernetes.io/name': 'traefik' }, 'rancher/mirrored-library-traefik:3.5.3')];

const k3sInputs = (nodes: NodeFacts[]): ComponentInputs => ({
  nodes,
  pods: k3sPods,
  apiServer: { server: 'https://0.0.0.0:6551', gitVersion: 'v1.32.0+k3s1', platform: 'linux/amd64', distribution: 'k3s', evidence: [] },
  leases: [
    { name: 'kube-scheduler', holder: 'k3d-demo-server-0_6c3f0d2e-1b0c-4b7e-9c55-0a1b2c3d4e5f' },
    { name: 'kube-controller-manager', holder: 'k3d-demo-server-0_0f0e0d0c' },
    { name: 'k3s-cloud-controller-manager', holder: 'k3d-demo-server-0' },
    { name: 'apiserver-a4z6bxdyglsgsyvcgzqp3lz7ma', holder: 'apiserver-a4z6bxdyglsgsyvcgzqp3lz7ma_1f2e', hostname: 'k3d-demo-server-0' },
  ],
});

const byName = <T extends { name: string }>(components: T[], name: string): T => components.find((c) => c.name === name)!;

describe('where the components run', () => {
  const components = locateComponents(k3sInputs([etcdServer, agent]));

  test('the control plane runs inside the k3s server process, credited by node-args, /version and leases', () => {
    const scheduler = byName(locateComponents(k3sInputs([etcdServer, agent])), 'kube-scheduler');
    expect(scheduler).toMatchObject({ placement: 'in-process', nodes: ['k3d-demo-server-0'], pods: [] });
    expect(scheduler.evidence).toEqual([
      'no kube-system pod is kube-scheduler (2 pods checked by name and by the labels component, k8s-app, app)',
      'k3s.io/node-args of k3d-demo-server-0: `k3s server` without --disable-scheduler',
      'Lease kube-system/kube-scheduler is held by k3d-demo-server-0_6c3f0d2e-1b0c-4b7e-9c55-0a1b2c3d4e5f: a process on node k3d-demo-server-0, which runs no pod of it',
    ]);
    expect(byName(components, 'kube-apiserver').evidence).toContain("/version answers v1.32.0+k3s1: the +k3s suffix marks k3s's own build of the API server");
    expect(byName(components, 'kube-apiserver').evidence).toContain(
      "Lease kube-system/apiserver-a4z6bxdyglsgsyvcgzqp3lz7ma, an API server's identity, names host k3d-demo-server-0: a node that runs no API server pod",
    );
    expect(byName(components, 'cloud-controller-manager').evidence).toContain("spec.providerID k3s://<node> on k3d-demo-server-0: set by k3s's own cloud provider");
  });

  test('node components run on every k3s node; containerd as a child process', () => {
    expect(byName(components, 'kubelet')).toMatchObject({ placement: 'in-process', nodes: ['k3d-demo-server-0', 'k3d-demo-agent-0'] });
    expect(byName(components, 'kubelet').evidence).toContain("kubelet version v1.32.0+k3s1 on k3d-demo-server-0, k3d-demo-agent-0 (+k3s: k3s's build)");
    expect(byName(components, 'containerd')).toMatchObject({ placement: 'child-process' });
    expect(byName(components, 'containerd').evidence).toContain(
      'container runtime containerd://1.7.23-k3s2 on k3d-demo-server-0, k3d-demo-agent-0 (-k3s: the containerd bundled with k3s)',
    );
    expect(byName(components, 'flannel').evidence).toContain(
      "annotation flannel.alpha.coreos.com/backend-type=vxlan on k3d-demo-server-0, k3d-demo-agent-0: written by flannel's subnet manager",
    );
  });

  test('a disabling flag stops it; a cluster-wide server flag stops it on agents too', () => {
    const server = node('s0', ['server', '--disable-scheduler', '--flannel-backend', 'none']);
    const located = locateComponents(k3sInputs([server, node('a0', ['agent'])]));
    expect(byName(located, 'kube-scheduler')).toMatchObject({ placement: 'not-running', nodes: [] });
    expect(byName(located, 'kube-scheduler').evidence).toContain('--disable-scheduler in k3s.io/node-args of s0');
    expect(byName(located, 'flannel')).toMatchObject({ placement: 'not-running' });
    expect(byName(located, 'flannel').evidence).toContain('--flannel-backend none in k3s.io/node-args of server s0 (agents take it from the server)');
    expect(byName(located, 'kube-proxy')).toMatchObject({ placement: 'in-process', nodes: ['s0', 'a0'] });
  });

  test('without k3s: mirror pods are static pods, DaemonSet pods are pods, node agents are services of the nodes', () => {
    const kubeadm: ComponentInputs = {
      ...k3sInputs([node('kind-control-plane', undefined, { kubeletVersion: 'v1.32.9', containerRuntime: 'containerd://1.7.27' })]),
      pods: [
        { ...pod('kube-scheduler-kind-control-plane', { component: 'kube-scheduler' }, 'registry.k8s.io/kube-scheduler:v1.32.9'), owner: 'Node/kind-control-plane' },
        { ...pod('kube-proxy-7xk2d', { 'k8s-app': 'kube-proxy' }), owner: 'DaemonSet/kube-proxy' },
      ],
      leases: [{ name: 'kube-scheduler', holder: 'kind-control-plane_5d1f' }],
    };
    const located = locateComponents(kubeadm);
    expect(byName(located, 'kube-scheduler')).toMatchObject({ placement: 'static-pod', pods: ['kube-scheduler-kind-control-plane'] });
    expect(byName(located, 'kube-scheduler').evidence).toEqual([
      'static pod kube-scheduler-kind-control-plane on k3d-demo-server-0: owned by Node/kind-control-plane (a mirror pod), Running, image registry.k8s.io/kube-scheduler:v1.32.9',
      'leader: Lease kube-system/kube-scheduler is held by kind-control-plane_5d1f',
    ]);
    expect(byName(located, 'kube-proxy')).toMatchObject({ placement: 'pod', pods: ['kube-proxy-7xk2d'] });
    expect(byName(located, 'kubelet')).toMatchObject({ placement: 'node-service', nodes: ['kind-control-plane'] });
    expect(byName(located, 'kubelet').evidence).toContain('kubelet version v1.32.9 on kind-control-plane');
    expect(byName(located, 'cloud-controller-manager')).toMatchObject({ placement: 'unknown' });
  });
});

describe('the datastore', () => {
  test('embedded etcd: the role label, --cluster-init, and the members k3s annotated when /db/info is refused', () => {
    const datastore = detectDatastore([etcdServer, agent], k3sPods, { status: 403, body: '{"message":"forbidden"}' });
    expect(datastore).toMatchObject({
      kind: 'embedded-etcd',
      members: [{ name: 'k3d-demo-server-0-1a2b3c4d', node: 'k3d-demo-server-0', address: '172.18.0.2' }],
    });
    expect(datastore.membersSource).toMatch(/^annotations etcd\.k3s\.cattle\.io\/node-name/);
    expect(datastore.evidence).toEqual([
      'label node-role.kubernetes.io/etcd=true on k3d-demo-server-0',
      '--cluster-init in k3s.io/node-args of k3d-demo-server-0: it started a new embedded etcd cluster',
      "GET /db/info: HTTP 403: k3s answers it only to loopback clients and to the k3s:server role (the server token); this kubeconfig's user is neither",
    ]);
    expect(datastoreComponent(datastore, [etcdServer, agent], k3sPods)).toMatchObject({ name: 'etcd (embedded)', placement: 'in-process', nodes: ['k3d-demo-server-0'] });
  });

  test('/db/info answered: its members, with 64-bit IDs kept exact and the node each runs on', () => {
    const body = '{"members":[{"ID":12858828581462913056,"name":"k3d-demo-server-0-1a2b3c4d","peerURLs":["https://172.18.0.2:2380"],"clientURLs":["https://172.18.0.2:2379"]}]}\n';
    expect(parseDbInfo(body)[0]!.id).toBe('12858828581462913056');
    const datastore = detectDatastore([etcdServer], [], { status: 200, body });
    expect(datastore.membersSource).toBe('GET /db/info');
    expect(datastore.members).toEqual([
      { name: 'k3d-demo-server-0-1a2b3c4d', id: '12858828581462913056', peerURLs: ['https://172.18.0.2:2380'], clientURLs: ['https://172.18.0.2:2379'], isLearner: false, node: 'k3d-demo-server-0' },
    ]);
  });

  test("kine over SQLite: k3s's default, no etcd role, no datastore flags, and no /db/info route", () => {
    const datastore = detectDatastore([node('k3d-plain-server-0', ['server', '--tls-san', '0.0.0.0'])], [], { status: 404, body: '404 page not found' });
    expect(datastore.kind).toBe('kine-sqlite');
    expect(datastore.evidence).toEqual([
      'no node has the label node-role.kubernetes.io/etcd=true',
      'k3s.io/node-args of k3d-plain-server-0: no --cluster-init, --server or --datastore-endpoint',
      'GET /db/info: HTTP 404: k3s adds this route only when it runs embedded etcd',
    ]);
  });

  test('an external datastore, and etcd as static pods elsewhere', () => {
    const external = detectDatastore([node('s0', ['server', '--datastore-endpoint', '********'])], [], { error: 'socket hang up' });
    expect(external.kind).toBe('external');
    const kubeadm = detectDatastore([node('cp', undefined)], [pod('etcd-cp', { component: 'etcd' })], { status: 404, body: '' });
    expect(kubeadm).toMatchObject({ kind: 'etcd-pods', members: [{ name: 'etcd-cp', node: 'k3d-demo-server-0' }] });
  });
});

describe('kube-proxy mode', () => {
  test('from --kube-proxy-arg proxy-mode in node-args, else the k3s default iptables, said to be the default', () => {
    const nodes = [etcdServer, agent];
    const kubeProxy = byName(locateComponents(k3sInputs(nodes)), 'kube-proxy');
    expect(kubeProxyModes(nodes, kubeProxy)).toEqual([
      { node: 'k3d-demo-server-0', mode: 'iptables', learnedFrom: expect.stringMatching(/^k3s default: /) },
      { node: 'k3d-demo-agent-0', mode: 'ipvs', learnedFrom: '--kube-proxy-arg proxy-mode=ipvs in k3s.io/node-args' },
    ]);
  });

  test('none where kube-proxy is disabled', () => {
    const nodes = [node('s0', ['server', '--disable-kube-proxy'])];
    const kubeProxy = byName(locateComponents(k3sInputs(nodes)), 'kube-proxy');
    expect(kubeProxyModes(nodes, kubeProxy)[0]).toMatchObject({ mode: 'none' });
  });
});

describe('the text report', () => {
  test('columns are as wide as their widest cell', () => {
    expect(columns([['NAME', 'ROLES'], ['k3d-demo-server-0', 'control-plane']])).toEqual(['  NAME               ROLES', '  k3d-demo-server-0  control-plane']);
  });

  test('every section, each verdict followed by its evidence', () => {
    const nodes = [etcdServer];
    const inputs = k3sInputs(nodes);
    const located = locateComponents(inputs);
    const datastore = detectDatastore(nodes, k3sPods, { status: 403, body: '' });
    const report: ControlPlaneReport = {
      access: { kubeconfig: '/state/kubeconfigs/demo.yaml', context: 'k3d-demo' },
      apiServer: inputs.apiServer,
      nodes,
      components: [...located, datastoreComponent(datastore, nodes, [])],
      pods: k3sPods,
      leases: inputs.leases,
      health: {
        livez: { path: '/livez', status: 200, summary: 'livez check passed', checks: [{ name: 'ping', ok: true, detail: 'ok' }] },
        readyz: { path: '/readyz', status: 200, summary: 'readyz check passed', checks: [{ name: 'etcd', ok: true, detail: 'ok' }] },
      },
      datastore,
      ingress: {
        classes: [{ name: 'traefik', controller: 'traefik.io/ingress-controller', isDefault: true }],
        controllers: [{ kind: 'DaemonSet', namespace: 'kube-system', name: 'traefik', images: ['rancher/mirrored-library-traefik:3.5.3'], ready: '1/1', matchedBy: 'IngressClass traefik, label app.kubernetes.io/name=traefik' }],
        evidence: [],
      },
      coredns: { configMap: 'kube-system/coredns', corefile: '.:53 {\n    errors\n}\n', otherKeys: ['NodeHosts'], evidence: [] },
      kubeProxy: kubeProxyModes(nodes, byName(located, 'kube-proxy')),
    };
    const text = formatControlPlaneReport(report);
    expect(text).toContain('Control plane of context k3d-demo (https://0.0.0.0:6551)');
    expect(text).toMatch(/NODES\n {2}NAME +ROLES +STATUS +VERSION +RUNTIME +OS IMAGE +KERNEL +INTERNAL-IP\n {2}k3d-demo-server-0 +control-plane,etcd,master +Ready +v1\.32\.0\+k3s1/);
    expect(text).toContain('  k3s.io/node-args of k3d-demo-server-0: server --cluster-init --tls-san 0.0.0.0');
    expect(text).toMatch(/COMPONENTS INSIDE THE K3S PROCESS \(no pod\)\n {2}kube-apiserver +k3d-demo-server-0\n {6}· no kube-system pod is kube-apiserver/);
    expect(text).toMatch(/COMPONENTS CHILD PROCESS OF K3S \(no pod\)\n {2}containerd +k3d-demo-server-0/);
    expect(text).toMatch(/ {2}etcd \(embedded\) +k3d-demo-server-0\n {6}· label node-role\.kubernetes\.io\/etcd=true/);
    expect(text).toMatch(/KUBE-SYSTEM PODS\n {2}POD +NODE +PHASE +CONTAINER +IMAGE +TAG\n {2}coredns-ccb96694c-x2x9d +k3d-demo-server-0 +Running +coredns +rancher\/mirrored-coredns-coredns +1\.12\.0\n {6}args: -conf \/etc\/coredns\/Corefile/);
    expect(text).toContain('HEALTH\n  /livez  HTTP 200, livez check passed\n      [+]ping ok\n  /readyz  HTTP 200, readyz check passed\n      [+]etcd ok');
    expect(text).toContain('DATASTORE\n  embedded etcd, 1 member(s), inside the k3s server process\n  members, from annotations etcd.k3s.cattle.io/node-name and');
    expect(text).toContain('  IngressClass traefik (default: annotation ingressclass.kubernetes.io/is-default-class=true), controller traefik.io/ingress-controller');
    expect(text).toContain('  DaemonSet kube-system/traefik  1/1 ready  rancher/mirrored-library-traefik:3.5.3');
    expect(text).toContain('COREDNS (ConfigMap kube-system/coredns, key Corefile; other keys: NodeHosts)\n    .:53 {\n        errors\n    }');
    expect(text).toMatch(/KUBE-PROXY MODE\n {2}k3d-demo-server-0 +iptables +k3s default: /);
  });
});
