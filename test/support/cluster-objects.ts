import type { KubeConfig } from '@kubernetes/client-node';
import { apiGet } from '../../src/kube/api-get.js';

/**
 * Every object a cluster stores, as "group/version Kind namespace/name uid" lines, sorted: two
 * listings are equal when nothing was created, deleted or recreated in between. Not listed: what
 * records activity rather than state (Events, Leases renewed by the components) and the metrics API,
 * which serves live usage, not stored objects.
 */
const NOT_STATE = new Set(['v1/events', 'events.k8s.io/v1/events', 'coordination.k8s.io/v1/leases']);

interface ResourceList {
  resources: { name: string; kind: string; verbs: string[] }[];
}

async function getJson<T>(config: KubeConfig, path: string): Promise<T> {
  const answer = await apiGet(config, path, { timeoutMs: 30_000 });
  if (answer.status !== 200) throw new Error(`GET ${path}: HTTP ${answer.status}: ${answer.body.slice(0, 200)}`);
  return JSON.parse(answer.body) as T;
}

/** Each listable resource at its group's preferred version, as `[path prefix, "group/version"]`. */
async function listableResources(config: KubeConfig): Promise<{ path: string; groupVersion: string; kind: string }[]> {
  const groups = await getJson<{ groups: { name: string; preferredVersion: { groupVersion: string } }[] }>(config, '/apis');
  const versions = [
    { prefix: '/api/v1', groupVersion: 'v1' },
    ...groups.groups.filter((g) => g.name !== 'metrics.k8s.io').map((g) => ({ prefix: `/apis/${g.preferredVersion.groupVersion}`, groupVersion: g.preferredVersion.groupVersion })),
  ];
  const lists = await Promise.all(versions.map(async (v) => ({ ...v, list: await getJson<ResourceList>(config, v.prefix) })));
  return lists.flatMap(({ prefix, groupVersion, list }) =>
    list.resources
      .filter((r) => !r.name.includes('/') && r.verbs.includes('list') && !NOT_STATE.has(`${groupVersion}/${r.name}`))
      .map((r) => ({ path: `${prefix}/${r.name}`, groupVersion, kind: r.kind })),
  );
}

export async function clusterObjects(config: KubeConfig): Promise<string[]> {
  const resources = await listableResources(config);
  const listed = await Promise.all(
    resources.map(async ({ path, groupVersion, kind }) => {
      const list = await getJson<{ items: { metadata: { namespace?: string; name: string; uid: string } }[] }>(config, path);
      return list.items.map(({ metadata: m }) => `${groupVersion} ${kind} ${m.namespace ? `${m.namespace}/` : ''}${m.name} ${m.uid}`);
    }),
  );
  return listed.flat().sort();
}
