import { describe, expect, test } from '@jest/globals';
import { clusterMismatches, formatPortMapping, parseNodeArg, parsePortMapping, type ClusterSpec } from '../../src/cluster/spec.js';
import { InputError } from '../../src/errors.js';
import { k3dCreateCommand, observeK3dCluster, parseK3dVersion, registriesYaml } from '../../src/cluster/k3d/config.js';
import { kindConfig } from '../../src/cluster/kind/config.js';
import { parseDockerPorts } from '../../src/cluster/node-logs.js';
import { TRAEFIK_MANIFEST } from '../../src/forge/addons.js';
import { traefikManifestForKind } from '../../src/forge/kind/traefik.js';
import { readFile } from 'node:fs/promises';
import { parseAllDocuments } from 'yaml';

const course: ClusterSpec = {
  provider: 'k3d',
  name: 'yadoc-exposed',
  servers: 1,
  agents: 3,
  ports: [parsePortMapping('8081:80@loadbalancer')],
  k3sArgs: [],
};

describe('port mappings in k3d syntax', () => {
  test('parses the course mapping and prints it back', () => {
    expect(parsePortMapping('8081:80@loadbalancer')).toEqual({ hostPort: 8081, containerPort: 80, nodeFilter: 'loadbalancer' });
    expect(formatPortMapping(parsePortMapping('127.0.0.1:8082:80@server:0'))).toBe('127.0.0.1:8082:80@server:0');
  });
  test.each(['8081', '80a:80@loadbalancer', '8081:70000@loadbalancer', '8081:80@', 'a:b:c:d@x'])('rejects %s naming the flag', (text) => {
    expect(() => parsePortMapping(text, '--port')).toThrow(InputError);
    expect(() => parsePortMapping(text, '--port')).toThrow(/--port/);
  });
  test('k3s args need a node filter', () => {
    expect(parseNodeArg('--cluster-init@server:0')).toEqual({ arg: '--cluster-init', nodeFilter: 'server:0' });
    expect(() => parseNodeArg('--cluster-init')).toThrow(/ARG@NODEFILTER/);
  });
});

describe('reuse or refuse an existing cluster', () => {
  test('a matching cluster can be reused', () => {
    expect(clusterMismatches(course, { name: 'yadoc-exposed', servers: 1, agents: 3, ports: [{ hostPort: 8081, containerPort: 80, nodeFilter: 'loadbalancer' }] })).toEqual([]);
  });
  test('each difference is named', () => {
    const problems = clusterMismatches({ ...course, apiPort: 6550 }, { name: 'yadoc-exposed', servers: 1, agents: 1, ports: [], apiPort: 41000 });
    expect(problems).toEqual(['agents: want 3, has 1', 'port 8081:80@loadbalancer is not published', 'api port: want 6550, has 41000']);
  });
});

describe('k3d', () => {
  test('the create writes its kubeconfig into the file named, never the default one, and switches no context', () => {
    const { args, env } = k3dCreateCommand({ ...course, apiPort: 6551, k3sArgs: [parseNodeArg('--cluster-init@server:0')] }, '/tmp/k/kubeconfig');
    expect(args.slice(0, 7)).toEqual(['cluster', 'create', 'yadoc-exposed', '--servers', '1', '--agents', '3']);
    expect(args).toEqual(expect.arrayContaining(['-p', '8081:80@loadbalancer', '--api-port', '6551', '--k3s-arg', '--cluster-init@server:0']));
    expect(env).toEqual({ KUBECONFIG: '/tmp/k/kubeconfig' });
    expect(args).toContain('--kubeconfig-switch-context=false');
  });
  test('a cluster on the node registry uses it, mirrors docker.io to it, and hides the airgap dir from every node', () => {
    const registry = { push: '127.0.0.1:41234', pullAs: 'k3d-kubelab-registry:41234' };
    const { args } = k3dCreateCommand(course, '/tmp/k/kubeconfig', { registry, config: '/tmp/x/registries.yaml', emptyDir: '/state/empty' });
    expect(args.join(' ')).toContain('--registry-use k3d-kubelab-registry:41234 --registry-config /tmp/x/registries.yaml -v /state/empty:/var/lib/rancher/k3s/agent/images@all');
    expect(registriesYaml(registry)).toBe('mirrors:\n  docker.io:\n    endpoint:\n      - http://k3d-kubelab-registry:5000\n');
    expect(k3dCreateCommand(course, '/tmp/k/kubeconfig').args.join(' ')).not.toMatch(/registry|images@all/);
  });
  test('reads roles and published ports back from `k3d cluster list -o json`', () => {
    const observed = observeK3dCluster({
      name: 'yadoc-exposed',
      nodes: [
        { name: 'k3d-yadoc-exposed-server-0', role: 'server', portMappings: {} },
        ...[0, 1, 2].map((i) => ({ name: `k3d-yadoc-exposed-agent-${i}`, role: 'agent' })),
        {
          name: 'k3d-yadoc-exposed-serverlb',
          role: 'loadbalancer',
          portMappings: { '80/tcp': [{ HostIp: '0.0.0.0', HostPort: '8081' }], '6443/tcp': [{ HostIp: '0.0.0.0', HostPort: '6550' }] },
        },
      ],
    });
    expect(observed).toMatchObject({ servers: 1, agents: 3, apiPort: 6550, ports: [{ hostPort: 8081, containerPort: 80 }] });
  });
});

describe('kind', () => {
  test('maps @loadbalancer to the first control-plane node and the API port to 127.0.0.1', () => {
    const config = kindConfig({ ...course, provider: 'kind', apiPort: 6550 }) as { nodes: { role: string; extraPortMappings?: unknown[] }[]; networking: unknown };
    expect(config.nodes.map((n) => n.role)).toEqual(['control-plane', 'worker', 'worker', 'worker']);
    expect(config.nodes[0]!.extraPortMappings).toEqual([{ containerPort: 80, hostPort: 8081, listenAddress: '0.0.0.0', protocol: 'TCP' }]);
    expect(config.networking).toEqual({ apiServerAddress: '127.0.0.1', apiServerPort: 6550 });
  });
  test('tells kubeadm the CoreDNS tag of the forged node image, and nothing for an image the user names', () => {
    const forged = kindConfig({ ...course, provider: 'kind' }) as { kubeadmConfigPatches?: string[] };
    expect(forged.kubeadmConfigPatches).toEqual(['kind: ClusterConfiguration\ndns:\n  imageTag: v1.12.0\n']);
    const withMetrics = kindConfig({ ...course, provider: 'kind', addons: ['metrics-server'] }) as { kubeadmConfigPatches?: string[] };
    expect(withMetrics.kubeadmConfigPatches).toEqual([
      'kind: ClusterConfiguration\ndns:\n  imageTag: v1.12.0\napiServer:\n  extraArgs:\n    enable-aggregator-routing: "true"\n',
    ]);
    const named = kindConfig({ ...course, provider: 'kind', image: 'kindest/node:v1.32.8' }) as { kubeadmConfigPatches?: string[] };
    expect(named.kubeadmConfigPatches).toBeUndefined();
  });
  test('refuses k3s arguments and unknown node filters', () => {
    expect(() => kindConfig({ ...course, provider: 'kind', k3sArgs: [parseNodeArg('--cluster-init@server:0')] })).toThrow(/cluster.k3sArgs/);
    expect(() => kindConfig({ ...course, provider: 'kind', ports: [parsePortMapping('9000:80@agent:7')] })).toThrow(/agent:7/);
  });
  test('parses docker port summaries, collapsing the IPv6 duplicate', () => {
    expect(parseDockerPorts('0.0.0.0:8081->80/tcp, :::8081->80/tcp, 127.0.0.1:6550->6443/tcp')).toEqual([
      { hostIp: '0.0.0.0', hostPort: 8081, containerPort: 80 },
      { hostIp: '127.0.0.1', hostPort: 6550, containerPort: 6443 },
    ]);
  });
});

describe('k3d version', () => {
  test('reads the k3d and default k3s versions', () => {
    expect(parseK3dVersion('k3d version v5.9.0\nk3s version v1.31.5-k3s1 (default)\n')).toEqual({ k3d: 'v5.9.0', k3s: 'v1.31.5-k3s1' });
  });
  test('an unexpected format is an error quoting the output', () => {
    expect(() => parseK3dVersion('something else')).toThrow(/cannot read the versions .*something else/);
  });
});

describe('host capability check', () => {
  test('reads CAP_SYS_RESOURCE (bit 24) from the bounding set', async () => {
    const { hostHasSysResource } = await import('../../src/host/privileged.js');
    expect(hostHasSysResource('Name:\tnode\nCapBnd:\t000001ffffffffff\n')).toBe(true);
    expect(hostHasSysResource('Name:\tnode\nCapBnd:\t000001fffeffffff\n')).toBe(false);
  });
});

describe("kind's Traefik manifest", () => {
  test('the k3s manifest turned into a hostPort DaemonSet behind a ClusterIP Service, giving Ingresses 127.0.0.1', async () => {
    const source = await readFile(TRAEFIK_MANIFEST, 'utf8');
    const docs = parseAllDocuments(traefikManifestForKind(source)).map((d) => d.toJS() as Record<string, any>);
    const original = parseAllDocuments(source).map((d) => d.toJS() as Record<string, any>);
    expect(docs.map((d) => d.kind)).toEqual(original.map((d) => (d.kind === 'Deployment' ? 'DaemonSet' : d.kind)));
    const ds = docs.find((d) => d.kind === 'DaemonSet')!;
    expect(ds.spec.replicas).toBeUndefined();
    expect(ds.spec.updateStrategy).toEqual({ type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1 } });
    const container = ds.spec.template.spec.containers[0];
    expect(container.ports.map((p: { name: string; hostPort?: number }) => [p.name, p.hostPort])).toEqual([['web', 80], ['websecure', 443], ['traefik', undefined]]);
    expect(container.args).toContain('--providers.kubernetesingress.ingressendpoint.ip=127.0.0.1');
    expect(container.args.filter((a: string) => a.includes('ingressendpoint'))).toHaveLength(1);
    expect(docs.find((d) => d.kind === 'Service')!.spec.type).toBe('ClusterIP');
    // Everything else as in the source: the pod template apart from ports and that argument, RBAC, the IngressClass.
    const sourcePod = original.find((d) => d.kind === 'Deployment')!.spec.template.spec;
    expect({ ...ds.spec.template.spec, containers: [] }).toEqual({ ...sourcePod, containers: [] });
    expect(docs.filter((d) => !['DaemonSet', 'Service'].includes(d.kind))).toEqual(original.filter((d) => !['Deployment', 'Service'].includes(d.kind)));
  });
});
