import { access } from 'node:fs/promises';
import { KubeConfig } from '@kubernetes/client-node';
import { InputError } from '../errors.js';
import type { ClusterProvider, ClusterSummary } from './provider.js';
import type { ObservedCluster } from './spec.js';

/**
 * A cluster kubelab did not make (any kubeconfig and context): it provisions, deletes and imports
 * nothing, so lessons can be verified on any real cluster.
 */
export class ExistingProvider implements ClusterProvider {
  readonly name = 'existing' as const;

  constructor(
    private readonly kubeconfig: string,
    private readonly context?: string,
  ) {}

  async ensureAvailable(): Promise<void> {
    try {
      await access(this.kubeconfig);
    } catch {
      throw new InputError(`--kubeconfig: ${this.kubeconfig} does not exist or is not readable`);
    }
    const config = new KubeConfig();
    try {
      config.loadFromFile(this.kubeconfig);
    } catch (error) {
      throw new InputError(`--kubeconfig: ${this.kubeconfig} is not a kubeconfig (${(error as Error).message})`);
    }
    if (this.context && !config.getContexts().some((c) => c.name === this.context)) {
      const known = config.getContexts().map((c) => c.name).join(', ') || 'none';
      throw new InputError(`--context: "${this.context}" is not in ${this.kubeconfig} (contexts: ${known})`);
    }
  }

  async describe(name: string): Promise<ObservedCluster | undefined> {
    return { name, servers: 0, agents: 0, ports: [] };
  }

  async nodeImages(): Promise<string[]> {
    return [];
  }

  async create(): Promise<void> {
    throw new InputError('the existing provider creates no cluster', 'use `kubelab verify --kubeconfig F --context C`');
  }

  deleteCommand(): string {
    return 'nothing: kubelab never deletes a cluster it did not make';
  }

  async delete(): Promise<void> {
    // Not ours to delete.
  }

  async list(): Promise<ClusterSummary[]> {
    return [];
  }

  async writeKubeconfig(): Promise<string> {
    return this.kubeconfig;
  }

  contextName(): string {
    if (this.context) return this.context;
    const config = new KubeConfig();
    config.loadFromFile(this.kubeconfig);
    return config.getCurrentContext();
  }

  async importImages(_name: string, images: string[]): Promise<void> {
    if (images.length > 0) {
      throw new InputError(`cannot import ${images.join(', ')} into an existing cluster`, 'load the images yourself, then use `kubelab verify`');
    }
  }

  async collectLogs(): Promise<string[]> {
    return [];
  }
}
