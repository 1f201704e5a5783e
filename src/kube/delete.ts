import { ApiException } from '@kubernetes/client-node';
import { describeObject, type ObjectRef } from './apply.js';
import type { Kube } from './client.js';
import { outlastingOutages } from './outage.js';
import { waitFor } from './wait.js';


/**
 * Deletes what an apply made and waits, by watch, until the API server no longer has any of it.
 * Foreground deletion: a Deployment is gone only once its pods are, so the next lesson on the same
 * cluster starts without them (same names, same Ingress host, their CPU). Objects already gone count
 * as deleted.
 */
export async function deleteApplied(kube: Kube, applied: ObjectRef[], options: { timeoutMs: number }): Promise<void> {
  await Promise.all(
    applied.map(async (object) => {
      const { apiVersion, kind, name } = object.manifest;
      const metadata = { name, ...(object.namespace ? { namespace: object.namespace } : {}) };
      await outlastingOutages(() => kube.objects.delete({ apiVersion, kind, metadata }, undefined, undefined, undefined, undefined, 'Foreground')).catch((error: unknown) => {
        if (!(error instanceof ApiException && error.code === 404)) throw error;
      });
      await waitFor(kube, {
        description: `${describeObject(object)} to be deleted`,
        target: { apiVersion, kind, ...(object.namespace ? { namespace: object.namespace } : {}), fieldSelector: `metadata.name=${name}` },
        until: (objects) => (objects.length === 0 ? true : undefined),
        timeoutMs: options.timeoutMs,
        diagnose: async () => {
          const left = await kube.objects.read({ apiVersion, kind, metadata });
          return `${describeObject(object)} still exists: deletion requested at ${left.metadata?.deletionTimestamp ?? '(not yet)'}, finalizers: ${left.metadata?.finalizers?.join(', ') || 'none'}`;
        },
      });
    }),
  );
}
