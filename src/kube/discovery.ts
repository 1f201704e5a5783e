import type { KubeConfig } from '@kubernetes/client-node';
import { getRaw } from './client.js';

export interface ResourceInfo {
  /** The plural used in URLs, e.g. `deployments`. */
  plural: string;
  namespaced: boolean;
}

interface ApiResourceList {
  resources: { name: string; kind: string; namespaced: boolean }[];
}

/** Discovery with a per-client cache: which URL serves `kind` in `apiVersion`, if any. */
export class Discovery {
  private readonly cache = new Map<string, Promise<ApiResourceList | undefined>>();

  constructor(private readonly config: KubeConfig) {}

  private groupVersion(apiVersion: string): Promise<ApiResourceList | undefined> {
    let entry = this.cache.get(apiVersion);
    if (!entry) {
      const path = apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
      entry = getRaw(this.config, path).then(
        (body) => JSON.parse(body) as ApiResourceList,
        (error: { statusCode?: number }) => {
          if (error.statusCode === 404) return undefined;
          // Not remembered: an API server that did not answer may answer the next call.
          this.cache.delete(apiVersion);
          throw error;
        },
      );
      this.cache.set(apiVersion, entry);
    }
    return entry;
  }

  /** undefined when the API server serves no such apiVersion, or no such kind in it. */
  async resource(apiVersion: string, kind: string): Promise<ResourceInfo | undefined> {
    const list = await this.groupVersion(apiVersion);
    const found = list?.resources.find((r) => r.kind === kind && !r.name.includes('/'));
    return found && { plural: found.name, namespaced: found.namespaced };
  }

  async hasApiVersion(apiVersion: string): Promise<boolean> {
    return (await this.groupVersion(apiVersion)) !== undefined;
  }

  /** The collection URL, e.g. `/apis/apps/v1/namespaces/default/deployments`. */
  async collectionPath(apiVersion: string, kind: string, namespace?: string): Promise<string> {
    const info = await this.resource(apiVersion, kind);
    if (!info) throw new Error(`the API server serves no ${kind} in ${apiVersion}`);
    const base = apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
    return info.namespaced && namespace ? `${base}/namespaces/${namespace}/${info.plural}` : `${base}/${info.plural}`;
  }
}
