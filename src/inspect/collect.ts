import { ApiException, CoordinationV1Api } from '@kubernetes/client-node';
import type { Kube } from '../kube/client.js';
import { apiGet, type ApiAnswer } from '../kube/api-get.js';
import { apiServerVersion } from '../kube/api-version.js';
import { locateComponents } from './components.js';
import { datastoreComponent, DB_INFO_PATH, detectDatastore, type DbInfoProbe } from './datastore.js';
import { parseHealth } from './health.js';
import { collectIngress } from './ingress.js';
import { kubeProxyModes } from './kube-proxy.js';
import { nodeFacts } from './nodes.js';
import { podFacts } from './pods.js';
import type { ApiServerFacts, ControlPlaneReport, CoreDnsFacts, DatastoreFacts, HealthReport, LeaseFacts } from './types.js';

const SYSTEM = 'kube-system';

export interface InspectOptions {
  signal?: AbortSignal;
  /** How long one raw API request may take before the cluster counts as unreachable. */
  requestTimeoutMs?: number;
  /** The k3s join token: with it, k3s's /db/info answers etcd's member list (see JoinTokenServer). */
  serverToken?: string;
}

type Get = (path: string) => Promise<ApiAnswer>;

/** /version first: it tells whether the cluster answers at all, and whose build the API server is. */
async function apiServerFacts(kube: Kube, options: InspectOptions): Promise<ApiServerFacts> {
  const { server, gitVersion, platform } = await apiServerVersion(kube, { timeoutMs: options.requestTimeoutMs, signal: options.signal });
  const distribution = gitVersion.includes('+k3s') ? 'k3s' : 'other';
  return {
    server,
    gitVersion,
    platform,
    distribution,
    evidence: [`GET /version: gitVersion ${gitVersion}${distribution === 'k3s' ? ' (+k3s: a k3s build)' : ''}`],
  };
}

async function health(get: Get, path: string): Promise<HealthReport> {
  const answer = await get(`${path}?verbose`);
  return parseHealth(path, answer.status, answer.body);
}

/** /db/info as evidence: its answer (even 403 or 404) says something about the datastore. */
async function probeDbInfo(get: Get): Promise<DbInfoProbe> {
  return get(DB_INFO_PATH).catch((error: Error) => ({ error: error.message }));
}

/** The datastore of the cluster `kube` points at, asking /db/info with the join token when given. */
export async function inspectDatastore(kube: Kube, options: InspectOptions = {}): Promise<DatastoreFacts> {
  const [nodeList, podList, dbInfo] = await Promise.all([
    kube.core.listNode(),
    kube.core.listNamespacedPod({ namespace: SYSTEM }),
    probeDbInfo(dbInfoGetter(kube, options)),
  ]);
  return detectDatastore(nodeList.items.map(nodeFacts), podList.items.map(podFacts), dbInfo);
}

/** GETs on the cluster's API endpoint with the inspect timeout; `basicAuth` replaces the kubeconfig's user. */
function apiGetter(kube: Kube, options: InspectOptions, basicAuth?: { user: string; password: string }): Get {
  return (path) => apiGet(kube.config, path, { timeoutMs: options.requestTimeoutMs ?? 10_000, signal: options.signal, ...(basicAuth ? { basicAuth } : {}) });
}

/** /db/info is a k3s supervisor route: with the join token it answers as to a joining server. */
const dbInfoGetter = (kube: Kube, options: InspectOptions): Get =>
  apiGetter(kube, options, options.serverToken ? { user: 'server', password: options.serverToken } : undefined);

async function leases(kube: Kube): Promise<LeaseFacts[]> {
  const list = await kube.config.makeApiClient(CoordinationV1Api).listNamespacedLease({ namespace: SYSTEM });
  return list.items.map((l) => {
    const hostname = l.metadata?.labels?.['kubernetes.io/hostname'];
    return { name: l.metadata?.name ?? '', ...(l.spec?.holderIdentity ? { holder: l.spec.holderIdentity } : {}), ...(hostname ? { hostname } : {}) };
  });
}

async function coreDns(kube: Kube): Promise<CoreDnsFacts> {
  const configMap = `${SYSTEM}/coredns`;
  try {
    const data = (await kube.core.readNamespacedConfigMap({ name: 'coredns', namespace: SYSTEM })).data ?? {};
    const otherKeys = Object.keys(data).filter((k) => k !== 'Corefile').sort();
    return { configMap, corefile: data.Corefile, otherKeys, evidence: [`ConfigMap ${configMap}, key Corefile`] };
  } catch (error) {
    if (!(error instanceof ApiException) || error.code !== 404) throw error;
    return { configMap, otherKeys: [], evidence: [`no ConfigMap ${configMap}: CoreDNS is absent or configured elsewhere`] };
  }
}

/** Collects the control-plane facts of the cluster `kube` points at; reads only, changes nothing. */
export async function inspectCluster(kube: Kube, options: InspectOptions = {}): Promise<ControlPlaneReport> {
  const get = apiGetter(kube, options);
  const apiServer = await apiServerFacts(kube, options);
  const [nodeList, podList, leaseList, livez, readyz, dbInfo, ingress, coredns] = await Promise.all([
    kube.core.listNode(),
    kube.core.listNamespacedPod({ namespace: SYSTEM }),
    leases(kube),
    health(get, '/livez'),
    health(get, '/readyz'),
    probeDbInfo(dbInfoGetter(kube, options)),
    collectIngress(kube),
    coreDns(kube),
  ]);
  const nodes = nodeList.items.map(nodeFacts);
  const pods = podList.items.map(podFacts);
  const datastore = detectDatastore(nodes, pods, dbInfo);
  const located = locateComponents({ nodes, pods, apiServer, leases: leaseList });
  return {
    access: kube.access,
    apiServer,
    nodes,
    components: [...located, datastoreComponent(datastore, nodes, pods)],
    pods,
    leases: leaseList,
    health: { livez, readyz },
    datastore,
    ingress,
    coredns,
    kubeProxy: kubeProxyModes(nodes, located.find((c) => c.name === 'kube-proxy')!),
  };
}
