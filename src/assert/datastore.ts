import type { V1Node } from '@kubernetes/client-node';
import { TimeoutError } from '../errors.js';
import { ETCD_ROLE_LABEL } from '../inspect/datastore.js';
import { inspectDatastore } from '../inspect/collect.js';
import type { DatastoreFacts } from '../inspect/types.js';
import { waitFor } from '../kube/wait.js';
import type { Assertion, LessonContext, Observation } from '../lab/types.js';

type Datastore = 'kine-sqlite' | 'embedded-etcd';

const DESCRIPTION: Record<Datastore, string> = {
  'kine-sqlite': 'keeps its state in SQLite through kine',
  'embedded-etcd': 'runs embedded etcd',
};

function describe(facts: DatastoreFacts, server: string): string {
  const members = facts.members.map((m) => `${m.name}${m.peerURLs ? ` (peer ${m.peerURLs.join(', ')})` : ''}`);
  return [`${server}: ${facts.description}`, ...(members.length ? [`members: ${members.join('; ')}`] : []), ...facts.evidence].join('; ');
}

/**
 * The k3s server's datastore, from the cluster itself: the etcd role label k3s puts on etcd members,
 * the server's arguments, and etcd's member list from k3s's /db/info (asked with the join token).
 * `cluster` is the lesson's own cluster, or with `companion` one of its companion clusters.
 */
export function datastoreIs(expected: Datastore, cluster: string, options: { companion?: boolean } = {}): Assertion {
  return {
    name: `cluster ${cluster} ${DESCRIPTION[expected]}`,
    expected: expected === 'embedded-etcd' ? 'embedded etcd with at least one member in its member list' : 'kine over SQLite: no etcd member, no --cluster-init',
    async check(context: LessonContext): Promise<Observation> {
      const kube = options.companion ? context.companion(cluster) : context.kube;
      const name = options.companion ? cluster : context.cluster.name;
      // k3s labels a node as an etcd member once its etcd controller has run; wait for the nodes to settle on it.
      try {
        await waitFor<V1Node, true>(kube, {
          description: `the nodes of ${name} to show their datastore role`,
          target: { apiVersion: 'v1', kind: 'Node' },
          until: (nodes) => {
            const servers = nodes.filter((n) => n.metadata?.annotations?.['k3s.io/node-args']?.includes('"server"'));
            const etcd = nodes.some((n) => n.metadata?.labels?.[ETCD_ROLE_LABEL] === 'true');
            return servers.length > 0 && (expected === 'kine-sqlite' || etcd) ? true : undefined;
          },
          timeoutMs: context.assertionTimeoutMs,
          signal: context.signal,
        });
      } catch (error) {
        if (!(error instanceof TimeoutError)) throw error;
      }
      const facts = await inspectDatastore(kube, { signal: context.signal, serverToken: await context.serverToken(name) });
      const server = kube.config.getCurrentCluster()?.server ?? name;
      return {
        pass: facts.kind === expected && (expected !== 'embedded-etcd' || facts.members.length > 0),
        observed: describe(facts, server),
      };
    },
  };
}
