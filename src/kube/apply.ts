import { ApiException, PatchStrategy, type KubernetesObject } from '@kubernetes/client-node';
import { InputError } from '../errors.js';
import { isApiUnreachable } from './api-get.js';
import type { Kube } from './client.js';
import { Discovery } from './discovery.js';
import type { Manifest } from './manifests.js';
import { outlastingOutages } from './outage.js';

export interface AppliedObject {
  manifest: Manifest;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  /** When the API server stored it (the first hop of a trace). */
  appliedAt: Date;
}

/** An object by identity: what apply made, or what a run plans to make. */
export type ObjectRef = Pick<AppliedObject, 'manifest' | 'namespace'>;

/** `Deployment default/myapp`, as messages name an object. */
export const describeObject = (o: ObjectRef) => `${o.manifest.kind} ${o.namespace ? `${o.namespace}/` : ''}${o.manifest.name}`;

const FIELD_MANAGER = 'kubelab';

function apiMessage(error: unknown): string {
  if (error instanceof ApiException) {
    try {
      return (JSON.parse(String(error.body)) as { message?: string }).message ?? String(error.body);
    } catch {
      return String(error.body);
    }
  }
  return error instanceof Error ? error.message : String(error);
}

function isMissingNamespace(error: unknown, namespaces: Set<string>): boolean {
  if (!(error instanceof ApiException) || error.code !== 404) return false;
  return [...namespaces].some((ns) => apiMessage(error).includes(`namespaces "${ns}" not found`));
}

/** Kinds that others live in go first, so one apply of a whole lesson works in any file order. */
const ORDER = ['Namespace', 'CustomResourceDefinition', 'ServiceAccount', 'ConfigMap', 'Secret'];
const rank = (m: Manifest) => (ORDER.includes(m.kind) ? ORDER.indexOf(m.kind) : ORDER.length);

/** A manifest as the API server will store it: in its namespace (the default one when it names none and its kind is namespaced). */
export interface PlacedManifest {
  manifest: Manifest;
  spec: KubernetesObject;
  namespace?: string;
}

/**
 * Places each manifest by the cluster's discovery (is its kind namespaced?), in apply order (kinds
 * that others live in first). An unknown kind or apiVersion is bad input naming its file:line.
 */
export async function placeManifests(kube: Kube, manifests: Manifest[], defaultNamespace = 'default'): Promise<PlacedManifest[]> {
  const discovery = new Discovery(kube.config);
  const ordered = [...manifests].sort((a, b) => rank(a) - rank(b));
  const placed: PlacedManifest[] = [];
  for (const manifest of ordered) {
    const info = await outlastingOutages(() => discovery.resource(manifest.apiVersion, manifest.kind));
    if (!info) {
      const served = await outlastingOutages(() => discovery.hasApiVersion(manifest.apiVersion));
      throw new InputError(
        served
          ? `${manifest.source}: kind "${manifest.kind}" is not served in apiVersion "${manifest.apiVersion}"`
          : `${manifest.source}: apiVersion "${manifest.apiVersion}" is not served by this cluster (kind ${manifest.kind})`,
      );
    }
    const namespace = info.namespaced ? (manifest.namespace ?? defaultNamespace) : undefined;
    const spec = { ...manifest.body, metadata: { ...manifest.body.metadata, ...(namespace ? { namespace } : {}) } } as KubernetesObject;
    placed.push({ manifest, spec, namespace });
  }
  return placed;
}

/**
 * Server-side applies `manifests` in two passes: a dry run of everything (unknown kinds, schema and
 * validation errors surface with file:line before anything is created), then the real apply. An API
 * server that goes away meanwhile (restarting) is waited for: every call here is safe to repeat.
 */
export async function applyManifests(kube: Kube, manifests: Manifest[], defaultNamespace = 'default'): Promise<AppliedObject[]> {
  const prepared = await placeManifests(kube, manifests, defaultNamespace);
  const created = new Set(prepared.filter(({ manifest }) => manifest.kind === 'Namespace').map(({ manifest }) => manifest.name));
  for (const { manifest, spec } of prepared) {
    try {
      await outlastingOutages(() => kube.objects.patch(spec, undefined, 'All', FIELD_MANAGER, true, PatchStrategy.ServerSideApply));
    } catch (error) {
      if (isApiUnreachable(error)) throw error; // not the manifest's fault
      if (isMissingNamespace(error, created)) continue; // made by an earlier document of this apply
      throw new InputError(`${manifest.source}: ${manifest.kind} ${manifest.name} rejected by the API server: ${apiMessage(error)}`);
    }
  }
  const applied: AppliedObject[] = [];
  for (const { manifest, spec, namespace } of prepared) {
    const result = await outlastingOutages(() => kube.objects.patch(spec, undefined, undefined, FIELD_MANAGER, true, PatchStrategy.ServerSideApply));
    applied.push({
      manifest,
      namespace,
      uid: result.metadata?.uid,
      resourceVersion: result.metadata?.resourceVersion,
      appliedAt: new Date(),
    });
  }
  return applied;
}

/**
 * Sets only the fields in `partial` (apiVersion, kind, metadata.name/namespace plus the fields),
 * owned by its own field manager, so the lesson's apply keeps owning everything else.
 */
export async function applyFields(kube: Kube, partial: KubernetesObject, fieldManager: string): Promise<KubernetesObject> {
  try {
    return await kube.objects.patch(partial, undefined, undefined, fieldManager, true, PatchStrategy.ServerSideApply);
  } catch (error) {
    throw new Error(`${partial.kind} ${partial.metadata?.name}: could not apply ${fieldManager}'s fields: ${apiMessage(error)}`);
  }
}
