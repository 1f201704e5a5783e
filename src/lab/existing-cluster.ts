import { ApiException, type KubernetesObject } from '@kubernetes/client-node';
import { EnvironmentError, InputError } from '../errors.js';
import { assertRegistryAnswers, parseRegistry } from '../images/push.js';
import { describeObject, placeManifests, type PlacedManifest } from '../kube/apply.js';
import { apiServerVersion } from '../kube/api-version.js';
import type { ClusterAccess, Kube } from '../kube/client.js';
import type { Manifest } from '../kube/manifests.js';
import { outlastingOutages } from '../kube/outage.js';
import type { Lesson } from './types.js';

/**
 * A run into a cluster kubelab did not make (`run --kubeconfig`): it creates only objects that do not
 * exist yet, never changes one that does, and deletes afterwards exactly what it created (namespaces
 * it created go with everything in them). The lesson's images reach the cluster through a registry
 * the user names.
 */
export interface ExistingCluster {
  access: ClusterAccess;
  /** Where the lesson's images are pushed, as the cluster's nodes pull them: HOST[:PORT][/PATH]. */
  registry?: string;
}

/** How a run was asked to target a cluster, in the caller's own names for its options (CLI flags or library options). */
export interface TargetRequest {
  /** A cluster of the user's was named (a kubeconfig, or for the CLI a context of the default one). */
  named: boolean;
  /** How the caller names the option that names such a cluster ("--kubeconfig/--context", "kubeconfig"). */
  namedBy: string;
  /** The registry option, by the caller's name for it, if given. */
  registry?: { option: string; value: string };
  /** Options that describe a cluster kubelab makes (provider, its name, node image, images-via) that were given, by the caller's names. */
  makeOptions: string[];
}

/**
 * Which kind of run was asked for: into the user's cluster (returning its registry, parsed) or into
 * one kubelab makes (undefined). Options that belong to the other kind are refused, naming them.
 */
export function existingTargetOf(request: TargetRequest): { registry?: string } | undefined {
  if (!request.named) {
    if (request.registry) {
      throw new InputError(`${request.registry.option} is for a cluster kubelab did not make (with ${request.namedBy}): images reach the clusters kubelab makes by import or its own registry`);
    }
    return undefined;
  }
  const [makeOption] = request.makeOptions;
  if (makeOption) {
    throw new InputError(`${makeOption} describes a cluster kubelab makes: with ${request.namedBy} the cluster is yours, drop ${makeOption}`);
  }
  return request.registry ? { registry: parseRegistry(request.registry.value, request.registry.option) } : {};
}

/** What the run may create: the manifests to apply, which are also what it deletes afterwards. */
export interface OwnedObjects {
  manifests: Manifest[];
  placed: PlacedManifest[];
}

/** What the lesson needs that an existing cluster cannot give it, checked before anything is built. */
export function checkLessonFits(lesson: Lesson, existing: ExistingCluster): void {
  const companions = lesson.companions ?? [];
  if (companions.length > 0) {
    throw new InputError(
      `${lesson.id} runs on ${companions.length + 1} clusters (${[lesson.cluster.name, ...companions.map((c) => c.name)].join(', ')}): a run into an existing cluster takes a lesson with one`,
      `kubelab run ${lesson.id} without --kubeconfig makes them`,
    );
  }
  if (lesson.images.length > 0 && !existing.registry) {
    throw new InputError(
      `${lesson.id}'s manifests use images kubelab builds (${lesson.images.map((i) => i.tag).join(', ')}), which a cluster kubelab did not make cannot have: name a registry its nodes pull from with --registry`,
      'e.g. --registry localhost:5001 for a local registry the cluster mirrors (k3d registry create, or kind\'s local-registry recipe)',
    );
  }
}

async function exists(kube: Kube, object: KubernetesObject): Promise<boolean> {
  const { apiVersion, kind, metadata } = object;
  try {
    await outlastingOutages(() => kube.objects.read({ apiVersion: apiVersion!, kind: kind!, metadata: { name: metadata!.name!, namespace: metadata!.namespace } }));
    return true;
  } catch (error) {
    if (error instanceof ApiException && error.code === 404) return false;
    throw error;
  }
}

/**
 * The cluster answers, the registry answers, and none of the lesson's objects exists yet (a namespace
 * that exists is used, not applied or deleted). Returns what the run will create.
 */
export async function claimExistingCluster(
  kube: Kube,
  lesson: Lesson,
  existing: ExistingCluster,
  manifests: Manifest[],
  signal: AbortSignal,
): Promise<OwnedObjects> {
  await apiServerVersion(kube, { signal });
  if (existing.registry) await assertRegistryAnswers(existing.registry, signal);
  const placed = await placeManifests(kube, manifests, lesson.namespace);
  const found = await Promise.all(placed.map(({ spec }) => exists(kube, spec)));
  const where = `context ${existing.access.context}`;
  const conflicts = placed.filter((object, i) => found[i] && object.manifest.kind !== 'Namespace');
  if (conflicts.length > 0) {
    throw new EnvironmentError(
      `${where} already has ${conflicts.map(describeObject).join(', ')}, which ${lesson.id} applies: kubelab changes and deletes only objects it creates`,
      'delete them, or run the lesson in another cluster',
    );
  }
  // Objects go into namespaces the manifests create or that exist: one missing fails the apply half-way.
  const created = new Set(placed.filter(({ manifest }) => manifest.kind === 'Namespace').map(({ manifest }) => manifest.name));
  const used = [...new Set(placed.flatMap(({ namespace }) => (namespace && !created.has(namespace) ? [namespace] : [])))];
  const usedFound = await Promise.all(used.map((name) => exists(kube, { apiVersion: 'v1', kind: 'Namespace', metadata: { name } })));
  const missing = used.filter((_name, i) => !usedFound[i]);
  if (missing.length > 0) {
    throw new EnvironmentError(
      `${where} has no namespace ${missing.join(', ')}, where ${lesson.id} applies objects, and its manifests do not create it`,
      `kubectl create namespace ${missing[0]}`,
    );
  }
  // A namespace that exists is the user's: used, not applied, not deleted.
  const owned = placed.filter((_object, i) => !found[i]);
  return { manifests: owned.map((object) => object.manifest), placed: owned };
}
