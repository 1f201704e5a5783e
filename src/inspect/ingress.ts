import { NetworkingV1Api, type V1DaemonSet, type V1Deployment, type V1IngressClass } from '@kubernetes/client-node';
import type { Kube } from '../kube/client.js';
import type { Evidence, IngressClassFacts, IngressFacts, WorkloadFacts } from './types.js';

const DEFAULT_CLASS_ANNOTATION = 'ingressclass.kubernetes.io/is-default-class';
const NAME_LABEL = 'app.kubernetes.io/name';

export function ingressClassFacts(ingressClass: V1IngressClass): IngressClassFacts {
  return {
    name: ingressClass.metadata?.name ?? '',
    controller: ingressClass.spec?.controller ?? '',
    isDefault: ingressClass.metadata?.annotations?.[DEFAULT_CLASS_ANNOTATION] === 'true',
  };
}

/**
 * The label selector that finds a class's controller. An IngressClass does not point at its pods;
 * charts (Traefik, ingress-nginx) and kubelab's Traefik label the class and the controller with the
 * same app.kubernetes.io/name, and otherwise the class is usually named after the controller.
 */
export function controllerSelector(ingressClass: V1IngressClass): string {
  return `${NAME_LABEL}=${ingressClass.metadata?.labels?.[NAME_LABEL] ?? ingressClass.metadata?.name ?? ''}`;
}

function workload(kind: WorkloadFacts['kind'], object: V1Deployment | V1DaemonSet, ready: string, matchedBy: string): WorkloadFacts {
  return {
    kind,
    namespace: object.metadata?.namespace ?? '',
    name: object.metadata?.name ?? '',
    images: (object.spec?.template.spec?.containers ?? []).map((c) => c.image ?? ''),
    ready,
    matchedBy,
  };
}

async function controllersOf(kube: Kube, ingressClass: V1IngressClass): Promise<WorkloadFacts[]> {
  const labelSelector = controllerSelector(ingressClass);
  const matchedBy = `IngressClass ${ingressClass.metadata?.name}, label ${labelSelector}`;
  const [deployments, daemonSets] = await Promise.all([
    kube.apps.listDeploymentForAllNamespaces({ labelSelector }),
    kube.apps.listDaemonSetForAllNamespaces({ labelSelector }),
  ]);
  return [
    ...deployments.items.map((d) => workload('Deployment', d, `${d.status?.readyReplicas ?? 0}/${d.spec?.replicas ?? 0}`, matchedBy)),
    ...daemonSets.items.map((d) => workload('DaemonSet', d, `${d.status?.numberReady ?? 0}/${d.status?.desiredNumberScheduled ?? 0}`, matchedBy)),
  ];
}

/** The IngressClasses, which is the default, and the Deployments or DaemonSets that serve them. */
export async function collectIngress(kube: Kube): Promise<IngressFacts> {
  const classes = (await kube.config.makeApiClient(NetworkingV1Api).listIngressClass()).items;
  const controllers = await Promise.all(classes.map((c) => controllersOf(kube, c)));
  const evidence: Evidence[] = classes.length === 0 ? ['no IngressClass: Ingresses here need an explicit controller, or none serves them'] : [];
  classes.forEach((c, i) => {
    if (controllers[i]!.length === 0) {
      evidence.push(`IngressClass ${c.metadata?.name}: no Deployment or DaemonSet carries ${controllerSelector(c)} (its controller may run outside the cluster)`);
    }
  });
  return { classes: classes.map(ingressClassFacts), controllers: controllers.flat(), evidence };
}
