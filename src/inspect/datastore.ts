import { podsOf } from './components.js';
import { isMirrorPod } from './pods.js';
import { hasFlag } from './node-args.js';
import { k3sServers } from './nodes.js';
import type { ComponentFacts, DatastoreFacts, EtcdMember, Evidence, NodeFacts, PodFacts } from './types.js';

/** k3s labels every server that runs an embedded etcd member (pkg/etcd metadata controller)... */
export const ETCD_ROLE_LABEL = 'node-role.kubernetes.io/etcd';
/** ...and annotates it with the member's name and peer address. */
const ETCD_NAME_ANNOTATION = 'etcd.k3s.cattle.io/node-name';
const ETCD_ADDRESS_ANNOTATION = 'etcd.k3s.cattle.io/node-address';
/** k3s's supervisor route for the etcd member list; it shares the API server's port. */
export const DB_INFO_PATH = '/db/info';

/** What GET /db/info answered, or why it could not be asked. */
export type DbInfoProbe = { status: number; body: string } | { error: string };

interface DbInfoMember {
  ID?: string;
  name?: string;
  peerURLs?: string[];
  clientURLs?: string[];
  isLearner?: boolean;
}

/**
 * Parses /db/info, k3s's JSON encoding of etcd's MemberList: `{"members":[{"ID":…,"name":…}]}`.
 * Member IDs are 64-bit integers, beyond what a JS number holds, so they are read as strings.
 */
export function parseDbInfo(body: string): EtcdMember[] {
  const parsed = JSON.parse(body.replace(/"ID":\s*(\d+)/g, '"ID":"$1"')) as { members?: DbInfoMember[] };
  return (parsed.members ?? []).map((m) => ({
    name: m.name ?? '',
    ...(m.ID ? { id: m.ID } : {}),
    ...(m.peerURLs ? { peerURLs: m.peerURLs } : {}),
    ...(m.clientURLs ? { clientURLs: m.clientURLs } : {}),
    isLearner: m.isLearner ?? false,
  }));
}

function dbInfoEvidence(probe: DbInfoProbe, members: number): Evidence {
  if ('error' in probe) return `GET ${DB_INFO_PATH} failed: ${probe.error}`;
  switch (probe.status) {
    case 200:
      return `GET ${DB_INFO_PATH} (k3s's supervisor, on the API port): ${members} member(s)`;
    case 401:
    case 403:
      return `GET ${DB_INFO_PATH}: HTTP ${probe.status}: k3s answers it only to loopback clients and to the k3s:server role (the server token); this kubeconfig's user is neither`;
    case 404:
      return `GET ${DB_INFO_PATH}: HTTP 404: k3s adds this route only when it runs embedded etcd`;
    default:
      return `GET ${DB_INFO_PATH}: HTTP ${probe.status} ${probe.body.trim().slice(0, 120)}`;
  }
}

/** The members k3s recorded on the nodes, for when /db/info is out of reach. */
function membersFromAnnotations(etcdNodes: NodeFacts[]): EtcdMember[] {
  return etcdNodes
    .filter((n) => n.annotations[ETCD_NAME_ANNOTATION])
    .map((n) => ({ name: n.annotations[ETCD_NAME_ANNOTATION]!, node: n.name, address: n.annotations[ETCD_ADDRESS_ANNOTATION] }));
}

/** Adds the node each /db/info member runs on: k3s names members `<node name>-<8 hex digits>`. */
function withNodes(members: EtcdMember[], nodes: NodeFacts[]): EtcdMember[] {
  return members.map((m) => {
    const node = nodes.find((n) => n.annotations[ETCD_NAME_ANNOTATION] === m.name || m.name.startsWith(`${n.name}-`));
    return node ? { ...m, node: node.name } : m;
  });
}

function embeddedEtcd(etcdNodes: NodeFacts[], nodes: NodeFacts[], probe: DbInfoProbe): DatastoreFacts {
  const fromDbInfo = !('error' in probe) && probe.status === 200 ? withNodes(parseDbInfo(probe.body), nodes) : [];
  const members = fromDbInfo.length > 0 ? fromDbInfo : membersFromAnnotations(etcdNodes);
  const membersSource = fromDbInfo.length > 0
    ? `GET ${DB_INFO_PATH}`
    : `annotations ${ETCD_NAME_ANNOTATION} and ${ETCD_ADDRESS_ANNOTATION}, which k3s writes for the member on each etcd node`;
  const evidence: Evidence[] = [`label ${ETCD_ROLE_LABEL}=true on ${etcdNodes.map((n) => n.name).join(', ')}`];
  for (const server of etcdNodes.filter((n) => n.k3sArgs)) {
    if (hasFlag(server.k3sArgs!, '--cluster-init')) evidence.push(`--cluster-init in k3s.io/node-args of ${server.name}: it started a new embedded etcd cluster`);
    else if (hasFlag(server.k3sArgs!, '--server')) evidence.push(`--server in k3s.io/node-args of ${server.name}: it joined the etcd cluster of an existing server`);
  }
  evidence.push(dbInfoEvidence(probe, fromDbInfo.length));
  return { kind: 'embedded-etcd', description: `embedded etcd, ${members.length} member(s), inside the k3s server process`, members, membersSource, evidence };
}

/**
 * Which datastore backs the API server. k3s's default is kine over SQLite; `--cluster-init` (or
 * joining a server with `--server`) switches it to embedded etcd; `--datastore-endpoint` to an
 * external database. kubeadm-style clusters run etcd as static pods instead.
 */
export function detectDatastore(nodes: NodeFacts[], pods: PodFacts[], probe: DbInfoProbe): DatastoreFacts {
  const servers = k3sServers(nodes);
  const external = servers.filter((n) => hasFlag(n.k3sArgs!, '--datastore-endpoint'));
  if (external.length > 0) {
    return {
      kind: 'external',
      description: 'an external datastore, reached through kine (or etcd\'s client) inside the k3s server process',
      members: [],
      evidence: [`--datastore-endpoint in k3s.io/node-args of ${external.map((n) => n.name).join(', ')} (k3s redacts the endpoint, so its kind is not visible)`],
    };
  }
  const etcdNodes = nodes.filter((n) => n.labels[ETCD_ROLE_LABEL] === 'true');
  if (etcdNodes.length > 0) return embeddedEtcd(etcdNodes, nodes, probe);
  if (servers.length > 0) {
    return {
      kind: 'kine-sqlite',
      description: 'kine over SQLite, inside the k3s server process (k3s\'s default datastore)',
      members: [],
      evidence: [
        `no node has the label ${ETCD_ROLE_LABEL}=true`,
        `k3s.io/node-args of ${servers.map((n) => n.name).join(', ')}: no --cluster-init, --server or --datastore-endpoint`,
        dbInfoEvidence(probe, 0),
      ],
    };
  }
  const etcdPods = podsOf('etcd', pods);
  if (etcdPods.length > 0) {
    return {
      kind: 'etcd-pods',
      description: `etcd as pods (${etcdPods.length})`,
      members: etcdPods.map((p) => ({ name: p.name, node: p.node })),
      membersSource: 'kube-system etcd pods',
      evidence: [`kube-system pods ${etcdPods.map((p) => p.name).join(', ')}`],
    };
  }
  return { kind: 'unknown', description: 'not visible from the API', members: [], evidence: ['no k3s server node-args, no etcd role label, no etcd pod'] };
}

/** The datastore as a component, next to the others in the report. */
export function datastoreComponent(datastore: DatastoreFacts, nodes: NodeFacts[], pods: PodFacts[]): ComponentFacts {
  const servers = k3sServers(nodes).map((n) => n.name);
  const inServers = { placement: 'in-process' as const, pods: [], evidence: datastore.evidence };
  switch (datastore.kind) {
    case 'embedded-etcd':
      return { ...inServers, name: 'etcd (embedded)', nodes: datastore.members.flatMap((m) => (m.node ? [m.node] : [])) };
    case 'kine-sqlite':
      return { ...inServers, name: 'kine + SQLite', nodes: servers };
    case 'external':
      return { ...inServers, name: 'kine → external datastore', nodes: servers };
    case 'etcd-pods':
    {
      const members = pods.filter((pod) => datastore.members.some((m) => m.name === pod.name));
      const statics = members.filter(isMirrorPod).map((pod) => `static pod ${pod.name} on ${pod.node}: owned by ${pod.owner} (a mirror pod), ${pod.phase}, image ${pod.containers[0]?.image ?? '?'}`);
      return {
        name: 'etcd',
        placement: statics.length > 0 ? 'static-pod' : 'pod',
        nodes: [],
        pods: datastore.members.map((m) => m.name),
        evidence: statics.length > 0 ? statics : datastore.evidence,
      };
    }
    case 'unknown':
      return { name: 'datastore', placement: 'unknown', nodes: [], pods: [], evidence: datastore.evidence };
  }
}
