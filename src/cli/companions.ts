import { providerFor } from '../cluster/registry.js';
import type { ClusterSpec } from '../cluster/spec.js';
import type { ClusterAccess } from '../kube/client.js';
import type { Lesson } from '../lab/types.js';
import { companionSpecsFor } from '../lab/lesson-clusters.js';

/** The lesson's companion clusters that exist (by name), with kubeconfigs written for them. */
export async function existingCompanions(lesson: Lesson, main: ClusterSpec, signal: AbortSignal): Promise<Map<string, ClusterAccess>> {
  const companions = new Map<string, ClusterAccess>();
  const provider = providerFor(main.provider);
  for (const companion of companionSpecsFor(lesson, main)) {
    if (!(await provider.describe(companion.name, { signal }))) continue;
    companions.set(companion.name, { kubeconfig: await provider.writeKubeconfig(companion.name, { signal }), context: provider.contextName(companion.name) });
  }
  return companions;
}
