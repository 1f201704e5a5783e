import { InputError } from '../errors.js';
import type { ClusterProvider } from '../cluster/provider.js';
import { PROVIDERS, providerFor } from '../cluster/registry.js';
import { validateClusterName, type ClusterSpec, type ProviderName } from '../cluster/spec.js';
import { DEFAULT_PULL_POLICY, type PullPolicy } from '../images/image-source.js';
import { DEFAULT_IMAGES_VIA, type ImageOptions, type ImagesVia } from '../images/lesson-images.js';
import type { Lesson } from './types.js';

/**
 * A lesson's clusters as data: its own cluster spec with the caller's overrides, its companions on the
 * same provider, and how its images are made. Shared by the CLI's commands and the library API.
 */

/** Overrides of the lesson's own cluster (the --provider, --name and --image flags). */
export interface ClusterChoice {
  provider?: string;
  name?: string;
  image?: string;
}

/** How the lesson's images are made and reach the nodes (the --base-image, --rebuild, --pull and --images-via flags). */
export interface ImageChoice {
  baseImage?: string;
  rebuild?: boolean;
  pull?: PullPolicy;
  imagesVia?: ImagesVia;
}

/** The lesson's cluster as data, with the flags that may override it. */
export function clusterSpecFor(lesson: Lesson, flags: ClusterChoice): ClusterSpec {
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

/** What `run` and `up` both need to bring a lesson's clusters up with its images, from their shared flags (or a library caller's choices). */
export interface LessonClusters {
  provider: ClusterProvider;
  spec: ClusterSpec;
  companions: ClusterSpec[];
  images: ImageOptions;
}

export function lessonClustersFor(lesson: Lesson, flags: ClusterChoice & ImageChoice): LessonClusters {
  const spec = clusterSpecFor(lesson, flags);
  const provider = providerFor(spec.provider);
  if (flags.imagesVia === 'registry' && !provider.startRegistry) {
    throw new InputError(`--images-via registry: ${spec.provider} clusters take images by import only`, 'drop --images-via, or use --provider k3d');
  }
  return {
    provider,
    spec,
    companions: companionSpecsFor(lesson, spec),
    images: { baseImage: flags.baseImage, rebuild: Boolean(flags.rebuild), pull: flags.pull ?? DEFAULT_PULL_POLICY, via: flags.imagesVia ?? (provider.startRegistry ? DEFAULT_IMAGES_VIA : 'import') },
  };
}
