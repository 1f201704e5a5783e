import { describe, expect, test } from '@jest/globals';
import { healthLine, parseHealth } from '../../src/inspect/health.js';
import { splitImage } from '../../src/inspect/image-ref.js';
import { componentArg, flagValues, formatNodeArgs, hasFlag, parseNodeArgs } from '../../src/inspect/node-args.js';
import { nodeFacts, nodeRoles } from '../../src/inspect/nodes.js';

// What k3s v1.32 writes for a k3d server made with --k3s-arg --cluster-init@server:0 and kubelab's
// config.yaml (k3s splits --flag=value at the first "=" and merges config.yaml into the list).
const K3D_SERVER_ARGS = JSON.stringify([
  'server',
  '--kube-proxy-arg', 'conntrack-max-per-core=0',
  '--cluster-init',
  '--tls-san', '0.0.0.0',
  '--tls-san', 'k3d-demo-serverlb',
  '--token', '********',
]);

describe('k3s.io/node-args', () => {
  const args = parseNodeArgs(K3D_SERVER_ARGS);

  test('the command, then flags with their values; a flag followed by a flag is a boolean', () => {
    expect(args.command).toBe('server');
    expect(args.flags).toEqual([
      { name: '--kube-proxy-arg', value: 'conntrack-max-per-core=0' },
      { name: '--cluster-init' },
      { name: '--tls-san', value: '0.0.0.0' },
      { name: '--tls-san', value: 'k3d-demo-serverlb' },
      { name: '--token', value: '********' },
    ]);
  });

  test('repeated flags keep every value; hasFlag honours an explicit false', () => {
    expect(flagValues(args, '--tls-san')).toEqual(['0.0.0.0', 'k3d-demo-serverlb']);
    expect(hasFlag(args, '--cluster-init')).toBe(true);
    expect(hasFlag(args, '--disable-scheduler')).toBe(false);
    expect(hasFlag(parseNodeArgs('["server","--cluster-init","false"]'), '--cluster-init')).toBe(false);
  });

  test('a --*-arg flag takes its value even when the value starts with dashes', () => {
    const parsed = parseNodeArgs('["agent","--kube-proxy-arg","--v=2","--node-label","zone=a"]');
    expect(parsed.flags).toEqual([
      { name: '--kube-proxy-arg', value: '--v=2' },
      { name: '--node-label', value: 'zone=a' },
    ]);
  });

  test('componentArg reads key=value inside a component flag; the last one wins, as in k3s', () => {
    const parsed = parseNodeArgs('["server","--kube-proxy-arg","proxy-mode=ipvs","--kube-proxy-arg","--proxy-mode=nftables"]');
    expect(componentArg(parsed, '--kube-proxy-arg', 'proxy-mode')).toBe('nftables');
    expect(componentArg(args, '--kube-proxy-arg', 'proxy-mode')).toBeUndefined();
  });

  test('formats back to one command line', () => {
    expect(formatNodeArgs(args)).toBe(
      'server --kube-proxy-arg conntrack-max-per-core=0 --cluster-init --tls-san 0.0.0.0 --tls-san k3d-demo-serverlb --token ********',
    );
  });

  test('anything but a JSON list of strings is refused with the annotation named', () => {
    expect(() => parseNodeArgs('{"server":true}')).toThrow(/k3s\.io\/node-args is not a JSON list of strings/);
    expect(() => parseNodeArgs('["server",1]')).toThrow(/not a JSON list of strings/);
  });
});

describe('/livez and /readyz?verbose', () => {
  test('one check per [+]/[-] line, the closing line as the summary', () => {
    const body = '[+]ping ok\n[+]log ok\n[-]etcd failed: reason withheld\n[+]informer-sync excluded: ok\n[+]poststarthook/start-apiextensions-controllers ok\nreadyz check failed\n';
    const report = parseHealth('/readyz', 500, body);
    expect(report).toEqual({
      path: '/readyz',
      status: 500,
      summary: 'readyz check failed',
      checks: [
        { name: 'ping', ok: true, detail: 'ok' },
        { name: 'log', ok: true, detail: 'ok' },
        { name: 'etcd', ok: false, detail: 'failed: reason withheld' },
        { name: 'informer-sync', ok: true, detail: 'excluded: ok' },
        { name: 'poststarthook/start-apiextensions-controllers', ok: true, detail: 'ok' },
      ],
    });
    expect(report.checks.map(healthLine)).toContain('[-]etcd failed: reason withheld');
  });

  test('a body without checks keeps the status as its summary', () => {
    expect(parseHealth('/livez', 403, '')).toEqual({ path: '/livez', status: 403, checks: [], summary: 'HTTP 403' });
  });
});

describe('image references', () => {
  test.each([
    ['rancher/mirrored-coredns-coredns:1.12.0', { repository: 'rancher/mirrored-coredns-coredns', tag: '1.12.0' }],
    ['nginx', { repository: 'nginx', tag: 'latest' }],
    ['localhost:5000/app', { repository: 'localhost:5000/app', tag: 'latest' }],
    ['localhost:5000/app:v2', { repository: 'localhost:5000/app', tag: 'v2' }],
    ['ghcr.io/k3d-io/k3d-proxy:5.9.0@sha256:abcd', { repository: 'ghcr.io/k3d-io/k3d-proxy', tag: '5.9.0', digest: 'sha256:abcd' }],
    ['busybox@sha256:1234', { repository: 'busybox', digest: 'sha256:1234' }],
  ])('%s', (image, parts) => {
    expect(splitImage(image)).toEqual(parts);
  });
});

describe('node roles and facts', () => {
  test('roles come from node-role.kubernetes.io/* labels whatever their value, and the legacy role label', () => {
    expect(nodeRoles({ 'node-role.kubernetes.io/control-plane': 'true', 'node-role.kubernetes.io/etcd': 'true', 'node-role.kubernetes.io/master': 'true' })).toEqual([
      'control-plane',
      'etcd',
      'master',
    ]);
    expect(nodeRoles({ 'node-role.kubernetes.io/control-plane': '', 'kubernetes.io/hostname': 'kind-control-plane' })).toEqual(['control-plane']);
    expect(nodeRoles({ 'kubernetes.io/role': 'worker' })).toEqual(['worker']);
    expect(nodeRoles({ 'node-role.kubernetes.io/': 'x' })).toEqual([]);
  });

  test('a k3s node: versions, runtime, address, parsed node-args; only k3s, etcd and flannel annotations kept', () => {
    const facts = nodeFacts({
      metadata: {
        name: 'k3d-demo-server-0',
        labels: { 'node-role.kubernetes.io/control-plane': 'true' },
        annotations: {
          'k3s.io/node-args': K3D_SERVER_ARGS,
          'k3s.io/node-config-hash': 'ABC====',
          'etcd.k3s.cattle.io/node-name': 'k3d-demo-server-0-1a2b3c4d',
          'flannel.alpha.coreos.com/backend-type': 'vxlan',
          'node.alpha.kubernetes.io/ttl': '0',
        },
      },
      spec: { providerID: 'k3s://k3d-demo-server-0' },
      status: {
        conditions: [{ type: 'Ready', status: 'True' }],
        addresses: [{ type: 'Hostname', address: 'k3d-demo-server-0' }, { type: 'InternalIP', address: '172.18.0.3' }],
        nodeInfo: {
          kubeletVersion: 'v1.32.0+k3s1', kubeProxyVersion: '', containerRuntimeVersion: 'containerd://1.7.23-k3s2',
          osImage: 'Debian GNU/Linux 12 (bookworm)', kernelVersion: '5.15.0-1', architecture: 'amd64', bootID: '', machineID: '', operatingSystem: 'linux', systemUUID: '',
        },
      },
    });
    expect(facts).toMatchObject({
      name: 'k3d-demo-server-0',
      roles: ['control-plane'],
      ready: true,
      kubeletVersion: 'v1.32.0+k3s1',
      containerRuntime: 'containerd://1.7.23-k3s2',
      internalIP: '172.18.0.3',
      providerID: 'k3s://k3d-demo-server-0',
      k3sArgs: { command: 'server' },
    });
    expect(facts.kubeProxyVersion).toBeUndefined();
    expect(Object.keys(facts.annotations).sort()).toEqual(['etcd.k3s.cattle.io/node-name', 'flannel.alpha.coreos.com/backend-type', 'k3s.io/node-config-hash']);
  });
});
