import { hasFlag, flagValues } from './node-args.js';
import { k3sNodes, k3sServers } from './nodes.js';
import { isMirrorPod } from './pods.js';
import type { ApiServerFacts, ComponentFacts, Evidence, LeaseFacts, NodeFacts, PodFacts } from './types.js';

/** What the component verdicts are derived from. */
export interface ComponentInputs {
  nodes: NodeFacts[];
  /** kube-system pods. */
  pods: PodFacts[];
  apiServer: ApiServerFacts;
  /** kube-system leases: leader election records name the process that holds them. */
  leases: LeaseFacts[];
}

interface DisablingFlag {
  flag: string;
  /** Only this value turns the component off (`--flannel-backend none`); any value when absent. */
  value?: string;
  /** A server flag that agents take from the server's config, so it is absent from their own args. */
  clusterWide?: boolean;
}

/**
 * A component k3s may run itself. Which flags turn it off, and whether it runs inside the k3s process
 * or as a child process, come from the k3s v1.32 source (pkg/daemons, pkg/agent); whether it does on
 * this cluster is decided from the evidence: no pod of it, and the node-args of the k3s processes.
 */
interface ComponentRule {
  name: string;
  /** Servers run the control plane; every k3s node (server or agent) runs the node components. */
  scope: 'servers' | 'every-node';
  placement: 'in-process' | 'child-process';
  disabledBy: DisablingFlag[];
  /** Further evidence from facts already collected, for the nodes that run it. */
  clues: (inputs: ComponentInputs, running: NodeFacts[]) => Evidence[];
}

const names = (nodes: NodeFacts[]) => nodes.map((n) => n.name).join(', ');

/** Leader election writes `<hostname>_<uuid>` into the lease: the hostname of a k3s node is its name. */
function leaseClue(lease: string) {
  return ({ leases, nodes }: ComponentInputs): Evidence[] => {
    const holder = leases.find((l) => l.name === lease)?.holder;
    if (!holder) return [`no holder in Lease kube-system/${lease}`];
    const node = nodes.find((n) => holder.split('_')[0] === n.name);
    return [`Lease kube-system/${lease} is held by ${holder}${node ? `: a process on node ${node.name}, which runs no pod of it` : ''}`];
  };
}

/** Each API server keeps an identity lease `apiserver-<hash>` labelled with its host's name. */
function identityLeaseClue({ leases, nodes }: ComponentInputs): Evidence[] {
  return leases
    .filter((l) => l.name.startsWith('apiserver-') && l.hostname)
    .map((l) => `Lease kube-system/${l.name}, an API server's identity, names host ${l.hostname}${nodes.some((n) => n.name === l.hostname) ? ': a node that runs no API server pod' : ''}`);
}

/** One evidence line per distinct value of `field`, naming the nodes that report it. */
function perValue(nodes: NodeFacts[], field: (n: NodeFacts) => string | undefined, describe: (value: string, on: string) => Evidence): Evidence[] {
  const groups = new Map<string, NodeFacts[]>();
  for (const node of nodes) {
    const value = field(node);
    if (value) groups.set(value, [...(groups.get(value) ?? []), node]);
  }
  return [...groups].map(([value, group]) => describe(value, names(group)));
}

const RULES: ComponentRule[] = [
  {
    name: 'kube-apiserver',
    scope: 'servers',
    placement: 'in-process',
    disabledBy: [{ flag: '--disable-apiserver' }],
    clues: (inputs) => [
      `/version answers ${inputs.apiServer.gitVersion}${inputs.apiServer.distribution === 'k3s' ? ': the +k3s suffix marks k3s\'s own build of the API server' : ''}`,
      ...identityLeaseClue(inputs),
    ],
  },
  {
    name: 'kube-scheduler',
    scope: 'servers',
    placement: 'in-process',
    disabledBy: [{ flag: '--disable-scheduler' }],
    clues: leaseClue('kube-scheduler'),
  },
  {
    name: 'kube-controller-manager',
    scope: 'servers',
    placement: 'in-process',
    disabledBy: [{ flag: '--disable-controller-manager' }],
    clues: leaseClue('kube-controller-manager'),
  },
  {
    name: 'cloud-controller-manager',
    scope: 'servers',
    placement: 'in-process',
    disabledBy: [{ flag: '--disable-cloud-controller' }],
    clues: (inputs) => [
      ...leaseClue('k3s-cloud-controller-manager')(inputs),
      ...perValue(inputs.nodes, (n) => (n.providerID?.startsWith('k3s://') ? 'k3s://' : undefined), (_, on) => `spec.providerID k3s://<node> on ${on}: set by k3s's own cloud provider`),
    ],
  },
  {
    name: 'kubelet',
    scope: 'every-node',
    placement: 'in-process',
    disabledBy: [],
    clues: (_, running) =>
      perValue(running, (n) => n.kubeletVersion, (version, on) => `kubelet version ${version} on ${on}${version.includes('+k3s') ? ' (+k3s: k3s\'s build)' : ''}`),
  },
  {
    name: 'kube-proxy',
    scope: 'every-node',
    placement: 'in-process',
    disabledBy: [{ flag: '--disable-kube-proxy', clusterWide: true }],
    clues: (_, running) => perValue(running, (n) => n.kubeProxyVersion, (version, on) => `kube-proxy version ${version} reported by ${on}`),
  },
  {
    name: 'containerd',
    scope: 'every-node',
    placement: 'child-process',
    disabledBy: [{ flag: '--container-runtime-endpoint' }, { flag: '--docker' }],
    clues: (_, running) =>
      perValue(running, (n) => n.containerRuntime, (version, on) => `container runtime ${version} on ${on}${/-k3s/.test(version) ? ' (-k3s: the containerd bundled with k3s)' : ''}`),
  },
  {
    name: 'flannel',
    scope: 'every-node',
    placement: 'in-process',
    disabledBy: [{ flag: '--flannel-backend', value: 'none', clusterWide: true }],
    clues: (_, running) =>
      perValue(
        running,
        (n) => n.annotations['flannel.alpha.coreos.com/backend-type'],
        (backend, on) => `annotation flannel.alpha.coreos.com/backend-type=${backend} on ${on}: written by flannel's subnet manager`,
      ),
  },
];

/** kube-system pods that are `component`: by name (`kube-proxy-x7k2p`) or by the usual labels. */
export function podsOf(component: string, pods: PodFacts[]): PodFacts[] {
  return pods.filter(
    (pod) =>
      pod.name.startsWith(`${component}-`) ||
      [pod.labels.component, pod.labels['k8s-app'], pod.labels.app].includes(component),
  );
}

const flagText = (disabling: DisablingFlag) => (disabling.value ? `${disabling.flag} ${disabling.value}` : disabling.flag);

/** Which flag, on the node itself or (cluster-wide flags) on a server, turns the component off there. */
function disablingFlagOn(node: NodeFacts, flags: DisablingFlag[], servers: NodeFacts[]): Evidence | undefined {
  for (const disabling of flags) {
    const carriers = disabling.clusterWide ? [node, ...servers] : [node];
    const carrier = carriers.find((n) => n.k3sArgs && matches(n, disabling));
    if (carrier) {
      const flag = flagText(disabling);
      return carrier === node ? `${flag} in k3s.io/node-args of ${node.name}` : `${flag} in k3s.io/node-args of server ${carrier.name} (agents take it from the server)`;
    }
  }
  return undefined;
}

function matches(node: NodeFacts, disabling: DisablingFlag): boolean {
  if (disabling.value === undefined) return hasFlag(node.k3sArgs!, disabling.flag);
  return flagValues(node.k3sArgs!, disabling.flag).includes(disabling.value);
}


/** The lease a leader-electing control-plane component renews, if it is one. */
const LEADER_LEASES: Record<string, string> = { 'kube-scheduler': 'kube-scheduler', 'kube-controller-manager': 'kube-controller-manager' };

function podEvidence(rule: ComponentRule, pods: PodFacts[], inputs: ComponentInputs): Evidence[] {
  const statics = pods.filter(isMirrorPod);
  const others = pods.filter((pod) => !isMirrorPod(pod));
  const evidence: Evidence[] = [];
  for (const pod of statics) {
    const container = pod.containers[0];
    evidence.push(`static pod ${pod.name} on ${pod.node}: owned by ${pod.owner} (a mirror pod), ${pod.phase}, image ${container?.image ?? '?'}`);
  }
  if (others.length > 0) evidence.push(`kube-system pods ${others.map((p) => p.name).join(', ')}`);
  const lease = LEADER_LEASES[rule.name];
  if (lease) {
    const holder = inputs.leases.find((l) => l.name === lease)?.holder;
    evidence.push(holder ? `leader: Lease kube-system/${lease} is held by ${holder}` : `no holder in Lease kube-system/${lease}`);
  }
  return evidence;
}

function componentFacts(rule: ComponentRule, inputs: ComponentInputs): ComponentFacts {
  const pods = podsOf(rule.name, inputs.pods);
  const base = { name: rule.name, nodes: [] as string[], pods: pods.map((p) => p.name) };
  if (pods.length > 0) {
    return { ...base, placement: pods.some(isMirrorPod) ? 'static-pod' : 'pod', evidence: podEvidence(rule, pods, inputs) };
  }
  const noPod = `no kube-system pod is ${rule.name} (${inputs.pods.length} pods checked by name and by the labels component, k8s-app, app)`;
  const servers = k3sServers(inputs.nodes);
  const candidates = rule.scope === 'servers' ? servers : k3sNodes(inputs.nodes);
  if (candidates.length === 0 && rule.scope === 'every-node' && k3sNodes(inputs.nodes).length === 0 && inputs.nodes.length > 0) {
    // No k3s anywhere: node agents run as services of the nodes themselves (kubeadm, kind, managed nodes).
    return {
      ...base,
      placement: 'node-service',
      nodes: inputs.nodes.map((n) => n.name),
      evidence: [noPod, 'no node carries k3s.io/node-args: each node runs it itself', ...rule.clues(inputs, inputs.nodes)],
    };
  }
  if (candidates.length === 0) {
    const why = k3sNodes(inputs.nodes).length === 0
      ? 'no node carries k3s.io/node-args, so no k3s process can be credited with it (a managed control plane runs it out of sight)'
      : 'no node runs `k3s server` (a server started with --disable-agent registers no node)';
    return { ...base, placement: 'unknown', evidence: [noPod, why] };
  }
  const disabled = candidates.map((node) => disablingFlagOn(node, rule.disabledBy, servers));
  const running = candidates.filter((_, i) => disabled[i] === undefined);
  // Deduplicated: a cluster-wide flag on a server explains every agent at once.
  const offEvidence = [...new Set(disabled.filter((e): e is Evidence => e !== undefined))];
  if (running.length === 0) return { ...base, placement: 'not-running', evidence: [noPod, ...offEvidence] };
  const k3sProcess = rule.scope === 'servers' ? '`k3s server`' : '`k3s server` or `k3s agent`';
  const flagsAbsent = rule.disabledBy.length > 0 ? ` without ${rule.disabledBy.map(flagText).join(' or ')}` : '';
  return {
    ...base,
    placement: rule.placement,
    nodes: running.map((n) => n.name),
    evidence: [noPod, `k3s.io/node-args of ${names(running)}: ${k3sProcess}${flagsAbsent}`, ...offEvidence, ...rule.clues(inputs, running)],
  };
}

/** Where each of the components k3s can run actually runs, with the evidence for each verdict. */
export function locateComponents(inputs: ComponentInputs): ComponentFacts[] {
  return RULES.map((rule) => componentFacts(rule, inputs));
}
