/**
 * On kind the machine registry starts beside the cluster's create (its nodes need it only once they
 * exist). Here a registry that fails while kind is creating: the registry waits until kind's node
 * container has started (so both ran at once), then fails. Provisioning answers with the registry's
 * error, not the create's; the create was stopped rather than left to finish; the cleanup leaves no
 * node, no kind network and no registry container that was not there before.
 */
import { describe, expect, test } from '@jest/globals';
import { execa } from 'execa';
import { KindProvider } from '../../src/cluster/kind/provider.js';
import type { CreateOptions, ProviderCallOptions } from '../../src/cluster/provider.js';
import type { ClusterSpec, NodeRegistry } from '../../src/cluster/spec.js';
import { removeKubeconfig } from '../../src/cluster/kubeconfig-file.js';
import { provisionCluster } from '../../src/lab/provision.js';
import { CleanupStack } from '../../src/util/cleanup.js';
import { deadline } from '../../src/util/deadline.js';
import { kindClusterLeftovers, registryContainerExists } from '../support/leftovers.js';

const MINUTE = 60_000;
const CLUSTER = 'kubelab-it-registry-beside';
const REGISTRY_FAILURE = 'the test registry refuses to start';

/**
 * Resolves once a container of kind cluster `cluster` has started since `since` (unix seconds), from
 * docker's event stream: replayed from then, so a node that started before the stream was open counts.
 */
async function nodeStarted(cluster: string, since: string, signal?: AbortSignal): Promise<void> {
  const limit = deadline(2 * MINUTE, signal);
  const filters = ['--filter', 'type=container', '--filter', 'event=start', '--filter', `label=io.x-k8s.kind.cluster=${cluster}`];
  const events = execa('docker', ['events', '--since', since, ...filters, '--format', '{{.Actor.Attributes.name}}'], {
    reject: false,
    cancelSignal: limit.signal,
  });
  try {
    for await (const line of events.iterable()) if (String(line).trim()) return;
    throw new Error(`no container of kind cluster ${cluster} started while the registry was starting`);
  } finally {
    limit.clear();
    events.kill();
  }
}

/** kind, with a registry that fails once the cluster's first node has started; records how its create ended. */
class RegistryFailsDuringCreate extends KindProvider {
  createEnded?: { outcome: 'resolved' | 'rejected'; aborted: boolean };
  private readonly since = String(Date.now() / 1000);

  override async startRegistry(_image: string, options?: ProviderCallOptions): Promise<NodeRegistry> {
    await nodeStarted(CLUSTER, this.since, options?.signal);
    throw new Error(REGISTRY_FAILURE);
  }

  override async create(spec: ClusterSpec, options: CreateOptions = {}): Promise<string> {
    try {
      const kubeconfig = await super.create(spec, options);
      this.createEnded = { outcome: 'resolved', aborted: Boolean(options.signal?.aborted) };
      return kubeconfig;
    } catch (error) {
      this.createEnded = { outcome: 'rejected', aborted: Boolean(options.signal?.aborted) };
      throw error;
    }
  }
}

describe('the machine registry beside kind’s create', () => {
  test('a registry failing mid-create stops the create; the error is the registry’s; nothing is left', async () => {
    const registryBefore = await registryContainerExists();
    const provider = new RegistryFailsDuringCreate();
    const spec: ClusterSpec = { provider: 'kind', name: CLUSTER, servers: 1, agents: 1, ports: [], k3sArgs: [] };
    const cleanup = new CleanupStack();
    let failure: unknown;
    try {
      await provisionCluster(provider, spec, cleanup, { keep: false, viaRegistry: true });
    } catch (error) {
      failure = error;
    } finally {
      await cleanup.runAll();
      await removeKubeconfig(CLUSTER);
    }
    expect(String(failure)).toContain(REGISTRY_FAILURE);
    expect(provider.createEnded).toEqual({ outcome: 'rejected', aborted: true });
    expect(await kindClusterLeftovers(CLUSTER)).toEqual([]);
    expect(await registryContainerExists()).toBe(registryBefore);
  }, 5 * MINUTE);
});
