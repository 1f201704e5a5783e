import { InputError } from '../errors.js';
import { K3dProvider } from './k3d/provider.js';
import { KindProvider } from './kind/provider.js';
import type { ClusterProvider } from './provider.js';
import type { ProviderName } from './spec.js';

/** The providers kubelab makes clusters with: the one list CLI choices, `down --all` and doctor read. */
export const PROVIDERS: readonly ProviderName[] = ['k3d', 'kind'];

export function providerFor(name: string): ClusterProvider {
  switch (name) {
    case 'k3d':
      return new K3dProvider();
    case 'kind':
      return new KindProvider();
    default:
      throw new InputError(`--provider: unknown provider "${name}"`, `use one of ${PROVIDERS.join(', ')}`);
  }
}
