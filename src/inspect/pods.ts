import type { V1Container, V1Pod } from '@kubernetes/client-node';
import { splitImage } from './image-ref.js';
import type { ContainerFacts, PodFacts } from './types.js';

function containerFacts(container: V1Container): ContainerFacts {
  const image = container.image ?? '';
  return { name: container.name, image, ...splitImage(image), command: container.command ?? [], args: container.args ?? [] };
}

export function podFacts(pod: V1Pod): PodFacts {
  const owner = pod.metadata?.ownerReferences?.find((o) => o.controller) ?? pod.metadata?.ownerReferences?.[0];
  return {
    name: pod.metadata?.name ?? '',
    namespace: pod.metadata?.namespace ?? '',
    node: pod.spec?.nodeName,
    phase: pod.status?.phase ?? 'Unknown',
    owner: owner && `${owner.kind}/${owner.name}`,
    labels: pod.metadata?.labels ?? {},
    containers: (pod.spec?.containers ?? []).map(containerFacts),
  };
}

/** A mirror pod is owned by its Node: the kubelet there runs it from a manifest file (a static pod), not a controller. */
export const isMirrorPod = (pod: PodFacts): boolean => pod.owner?.startsWith('Node/') ?? false;
