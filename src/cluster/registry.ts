import { InputError } from '../errors.js';
import { ExistingProvider } from './existing.js';
import { K3dProvider } from './k3d.js';
import { KindProvider } from './kind.js';
import type { ClusterProvider } from './provider.js';
import type { ProviderName } from './spec.js';

export const PROVIDERS: readonly ProviderName[] = ['k3d', 'kind', 'existing'];

export function providerFor(name: string, existing?: { kubeconfig: string; context?: string }): ClusterProvider {
  switch (name) {
    case 'k3d':
      return new K3dProvider();
    case 'kind':
      return new KindProvider();
    case 'existing':
      if (!existing) throw new InputError('the existing provider needs --kubeconfig (and optionally --context)');
      return new ExistingProvider(existing.kubeconfig, existing.context);
    default:
      throw new InputError(`--provider: unknown provider "${name}"`, `use one of ${PROVIDERS.join(', ')}`);
  }
}
