import { InputError } from '../errors.js';
import { parsePort, validateClusterName, type ClusterSpec, type ProviderName } from '../cluster/spec.js';
import { PROVIDERS } from '../cluster/registry.js';
import type { Lesson } from '../lab/types.js';

export interface ClusterFlags {
  provider?: string;
  name?: string;
  image?: string;
}

/** The lesson's cluster as data, with the flags that may override it. */
export function clusterSpecFor(lesson: Lesson, flags: ClusterFlags): ClusterSpec {
  const provider = (flags.provider ?? lesson.cluster.provider ?? 'k3d') as ProviderName;
  if (!PROVIDERS.includes(provider)) {
    throw new InputError(`--provider: "${flags.provider}" is not a cluster provider`, `use ${PROVIDERS.join(' or ')}`);
  }
  return {
    ...lesson.cluster,
    provider,
    name: flags.name ? validateClusterName(flags.name, '--name') : lesson.cluster.name,
    ...(flags.image ? { image: flags.image } : {}),
  };
}

/** The lesson's companion clusters, on the provider its own cluster uses (flags do not rename them). */
export function companionSpecsFor(lesson: Lesson, main: ClusterSpec): ClusterSpec[] {
  return (lesson.companions ?? [])
    .filter((companion) => !companion.onlyOn || companion.onlyOn.providers.includes(main.provider))
    .map(({ onlyOn: _onlyOn, ...companion }) => ({
      ...companion,
      provider: main.provider,
      ...(main.image ? { image: main.image } : {}),
    }));
}

export function parseSeconds(value: string, flag: string): number {
  if (!/^\d+$/.test(value) || Number(value) < 1) throw new InputError(`${flag}: "${value}" is not a whole number of seconds`);
  return Number(value) * 1000;
}

export { parsePort };
