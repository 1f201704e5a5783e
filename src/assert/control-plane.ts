import type { V1ConfigMap, V1Deployment, V1Lease, V1Pod } from '@kubernetes/client-node';
import { getRaw } from '../kube/client.js';
import { execInPod } from '../kube/exec.js';
import { repeatUntil } from '../util/repeat.js';
import type { Assertion, LessonContext, Observation } from '../lab/types.js';
import { watched } from './eventually.js';
import { isReady } from './workloads.js';

/**
 * Assertions about a kubeadm control plane (kind): the components as static pods, their flags, the
 * kubelet's live config, kube-proxy's mode, CoreDNS and leader election. Each says what it saw.
 */

export const CONTROL_PLANE_COMPONENTS = ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler'] as const;
export type ControlPlaneComponent = (typeof CONTROL_PLANE_COMPONENTS)[number];

const MIRROR_ANNOTATION = 'kubernetes.io/config.mirror';
const SYSTEM = 'kube-system';

const componentOf = (pod: V1Pod) => pod.metadata?.labels?.component;
const imageTag = (image: string) => image.slice(image.lastIndexOf(':') + 1);

/** The API server's version (`/version`), which the kube-* images must carry. */
async function serverVersion(context: LessonContext): Promise<string> {
  return (JSON.parse(await getRaw(context.kube.config, '/version')) as { gitVersion: string }).gitVersion;
}

/** The control-plane pods kubeadm writes as manifests: label tier=control-plane in kube-system. */
const controlPlanePods = () => ({ apiVersion: 'v1', kind: 'Pod', namespace: SYSTEM, labelSelector: 'tier=control-plane' });

export function staticControlPlanePods(): Assertion {
  let version = '';
  const inner = watched<V1Pod>({
    name: 'etcd, kube-apiserver, kube-controller-manager and kube-scheduler run as static pods on the control-plane node',
    expected: 'one mirror pod per component in kube-system, Running and Ready, kube-* images at the API server version, etcd 3.5',
    target: controlPlanePods,
    evaluate: (pods) => {
      const seen: string[] = [];
      const wrong: string[] = [];
      for (const component of CONTROL_PLANE_COMPONENTS) {
        const pod = pods.find((p) => componentOf(p) === component);
        if (!pod) {
          wrong.push(`${component}: no pod`);
          continue;
        }
        const image = pod.spec?.containers[0]?.image ?? '';
        const mirror = MIRROR_ANNOTATION in (pod.metadata?.annotations ?? {});
        const phase = pod.status?.phase ?? 'Unknown';
        const versionOk = component === 'etcd' ? imageTag(image).startsWith('3.5.') : imageTag(image) === version;
        const line = `${pod.metadata?.name}: ${phase}${isReady(pod.status?.conditions) ? '' : ' (not Ready)'}, ${image}${mirror ? ', mirror pod' : ', NOT a mirror pod'} on ${pod.spec?.nodeName}`;
        if (mirror && phase === 'Running' && isReady(pod.status?.conditions) && versionOk) seen.push(line);
        else wrong.push(line + (versionOk ? '' : ` (expected ${component === 'etcd' ? 'etcd 3.5.x' : version})`));
      }
      return { pass: wrong.length === 0, observed: [...wrong, ...seen].join('; ') };
    },
    diagnosePods: 'tier=control-plane',
  });
  return {
    ...inner,
    async check(context) {
      version = await serverVersion(context);
      return inner.check(context);
    },
  };
}

/** Whether `args` holds `--flag=value` (kubeadm writes every flag in that form). */
function flagValue(args: readonly string[], flag: string): string | undefined {
  const name = flag.split('=')[0]!;
  return args.find((arg) => arg === name || arg.startsWith(`${name}=`))?.slice(name.length + 1);
}

/** The static pod's command line has each flag, e.g. `--authorization-mode=Node,RBAC`. */
export function flagsInEffect(component: ControlPlaneComponent, flags: readonly string[]): Assertion {
  return watched<V1Pod>({
    name: `${component} runs with ${flags.join(' ')}`,
    expected: flags.join(' '),
    target: controlPlanePods,
    evaluate: (pods) => {
      const pod = pods.find((p) => componentOf(p) === component);
      if (!pod) return { pass: false, observed: `no ${component} pod in ${SYSTEM}` };
      const args = [...(pod.spec?.containers[0]?.command ?? []), ...(pod.spec?.containers[0]?.args ?? [])];
      const found = flags.map((flag) => [flag, flagValue(args, flag)] as const);
      const missing = found.filter(([flag, value]) => value === undefined || `${flag.split('=')[0]}=${value}` !== flag);
      const described = found.map(([flag, value]) => `${flag.split('=')[0]}=${value ?? '(absent)'}`).join(' ');
      return { pass: missing.length === 0, observed: `${pod.metadata?.name}: ${described}` };
    },
    diagnosePods: 'tier=control-plane',
  });
}

async function podOf(context: LessonContext, labelSelector: string): Promise<V1Pod | undefined> {
  const list = await context.kube.core.listNamespacedPod({ namespace: SYSTEM, labelSelector });
  return list.items.find((pod) => pod.status?.phase === 'Running');
}

/** `etcd --version` and `etcdctl version` by exec into the etcd pod, as the learner does with kubectl exec. */
export function etcdVersionsByExec(major = '3.5'): Assertion {
  return {
    name: `etcd --version and etcdctl version, run in the etcd pod, report etcd ${major}.x`,
    expected: `both print ${major}.x`,
    async check(context): Promise<Observation> {
      const pod = await podOf(context, 'component=etcd');
      if (!pod) return { pass: false, observed: 'no Running etcd pod in kube-system' };
      const target = { namespace: SYSTEM, pod: pod.metadata!.name!, container: pod.spec!.containers[0]!.name };
      const server = await execInPod(context.kube, target, ['etcd', '--version'], { signal: context.signal });
      const client = await execInPod(context.kube, target, ['etcdctl', 'version'], { signal: context.signal });
      const serverVersion = /etcd Version:\s*(\S+)/.exec(server.stdout)?.[1];
      const clientVersion = /etcdctl version:\s*(\S+)/.exec(client.stdout)?.[1];
      const ok = (v?: string) => v !== undefined && v.startsWith(`${major}.`);
      return {
        pass: server.exitCode === 0 && client.exitCode === 0 && ok(serverVersion) && ok(clientVersion),
        observed: `in ${target.pod}: etcd Version ${serverVersion ?? `(none; exit ${server.exitCode}: ${server.stderr.trim()})`}, ` +
          `etcdctl version ${clientVersion ?? `(none; exit ${client.exitCode}: ${client.stderr.trim()})`}`,
      };
    },
  };
}

/** The kubelet's live configuration on each control-plane node, from the API's node proxy (`/configz`). */
export function kubeletConfigz(expect: { cgroupDriver: string; staticPodPath: string }): Assertion {
  return {
    name: `the kubelet's live config (/configz): cgroupDriver ${expect.cgroupDriver}, staticPodPath ${expect.staticPodPath}`,
    expected: `cgroupDriver=${expect.cgroupDriver}, staticPodPath=${expect.staticPodPath} on every node`,
    async check(context) {
      const nodes = (await context.kube.core.listNode()).items.map((n) => n.metadata!.name!);
      const lines: string[] = [];
      let pass = nodes.length > 0;
      for (const node of nodes) {
        const raw = await getRaw(context.kube.config, `/api/v1/nodes/${node}/proxy/configz`);
        const config = (JSON.parse(raw) as { kubeletconfig?: { cgroupDriver?: string; staticPodPath?: string } }).kubeletconfig ?? {};
        pass &&= config.cgroupDriver === expect.cgroupDriver && config.staticPodPath === expect.staticPodPath;
        lines.push(`${node}: cgroupDriver=${config.cgroupDriver ?? '(unset)'}, staticPodPath=${config.staticPodPath ?? '(unset)'}`);
      }
      return { pass, observed: lines.join('; ') || 'no nodes' };
    },
  };
}

/**
 * kube-proxy's configured mode and, on a node, the KUBE-SERVICES chain it programs (iptables-save in
 * its pod). On a node that has just joined, kube-proxy programs its first rules a moment after it
 * runs, and iptables offers nothing to watch: the chain is read again each second until the deadline.
 */
export function kubeProxyMode(mode: 'iptables'): Assertion {
  return {
    name: `kube-proxy runs in ${mode} mode and programs KUBE-SERVICES`,
    expected: `mode: ${mode} in the kube-proxy ConfigMap, and a KUBE-SERVICES nat chain with service rules on the node`,
    async check(context) {
      const config: V1ConfigMap = await context.kube.core.readNamespacedConfigMap({ name: 'kube-proxy', namespace: SYSTEM });
      const configured = /^mode:\s*"?([a-z]*)"?\s*$/m.exec(config.data?.['config.conf'] ?? '')?.[1] ?? '(unset)';
      if (configured !== mode) return { pass: false, observed: `mode: ${configured}` };
      const observe = async (): Promise<Observation> => {
        const pod = await podOf(context, 'k8s-app=kube-proxy');
        if (!pod) return { pass: false, observed: `mode: ${configured}; no Running kube-proxy pod` };
        const target = { namespace: SYSTEM, pod: pod.metadata!.name!, container: pod.spec!.containers[0]!.name };
        const saved = await execInPod(context.kube, target, ['iptables-save', '-t', 'nat'], { signal: context.signal });
        const serviceRules = saved.stdout.split('\n').filter((line) => line.startsWith('-A KUBE-SERVICES ')).length;
        return {
          pass: serviceRules > 0,
          observed: `mode: ${configured}; ${pod.spec?.nodeName}: ${serviceRules} rules in the KUBE-SERVICES nat chain` +
            (saved.exitCode === 0 ? '' : ` (iptables-save exit ${saved.exitCode}: ${saved.stderr.trim()})`),
        };
      };
      return repeatUntil(observe, (observation) => observation.pass, { deadline: Date.now() + context.assertionTimeoutMs, everyMs: 1000, signal: context.signal });
    },
  };
}

/** The CoreDNS Deployment has every replica available and its Corefile has each directive (a line starting with it). */
export function corednsCorefile(directives: readonly string[]): Assertion {
  let missing: string[] = [];
  const deployment = watched<V1Deployment>({
    name: `CoreDNS is available and its Corefile has ${directives.join(', ')}`,
    expected: `Deployment coredns with every replica available; Corefile lines: ${directives.join(', ')}`,
    target: () => ({ apiVersion: 'apps/v1', kind: 'Deployment', namespace: SYSTEM, fieldSelector: 'metadata.name=coredns' }),
    evaluate: ([coredns]) => {
      if (!coredns) return { pass: false, observed: `no Deployment coredns in ${SYSTEM}` };
      const desired = coredns.spec?.replicas ?? 1;
      const available = coredns.status?.availableReplicas ?? 0;
      return {
        pass: available >= desired && missing.length === 0,
        observed: `coredns ${available}/${desired} available (${coredns.spec?.template.spec?.containers[0]?.image}); ` +
          (missing.length ? `Corefile lacks ${missing.join(', ')}` : `Corefile has all ${directives.length}`),
      };
    },
    diagnosePods: 'k8s-app=kube-dns',
  });
  return {
    ...deployment,
    async check(context) {
      const corefile = (await context.kube.core.readNamespacedConfigMap({ name: 'coredns', namespace: SYSTEM })).data?.Corefile ?? '';
      const lines = corefile.split('\n').map((line) => line.trim());
      missing = directives.filter((d) => !lines.some((line) => line === d || line.startsWith(`${d} `) || line.startsWith(`${d}{`)));
      return deployment.check(context);
    },
  };
}

/**
 * Leader election: the Lease each component renews, and who holds it. Watched, not looked at once:
 * right after a component restarts, its predecessor's lease is released and the new leader takes it
 * within its lease duration.
 */
export function leaderLeases(components: readonly ControlPlaneComponent[]): Assertion {
  return watched<V1Lease>({
    name: `${components.join(' and ')} hold their leader-election leases`,
    expected: 'each lease in kube-system has a holder that renewed it within its lease duration',
    target: () => ({ apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', namespace: SYSTEM }),
    evaluate: (leases) => {
      const lines: string[] = [];
      let pass = true;
      for (const component of components) {
        const spec = leases.find((lease) => lease.metadata?.name === component)?.spec;
        if (!spec) {
          pass = false;
          lines.push(`${component}: no lease`);
          continue;
        }
        const age = spec.renewTime ? (Date.now() - new Date(spec.renewTime).getTime()) / 1000 : Infinity;
        const fresh = age <= (spec.leaseDurationSeconds ?? 15) + 5;
        pass &&= Boolean(spec.holderIdentity) && fresh;
        const holder = spec.holderIdentity || '(nobody: released)';
        lines.push(`${component}: held by ${holder}, renewed ${Number.isFinite(age) ? `${age.toFixed(0)} s ago` : 'never'}`);
      }
      return { pass, observed: lines.join('; ') };
    },
  });
}
