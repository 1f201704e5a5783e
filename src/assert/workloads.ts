import type { V1Deployment, V1Node, V1Pod, V1Ingress, V1EndpointSlice } from '@kubernetes/client-node';
import type { Assertion } from '../lab/types.js';
import { watched } from './eventually.js';

export const isReady = (conditions: { type: string; status: string }[] | undefined, type = 'Ready') =>
  conditions?.some((c) => c.type === type && c.status === 'True') ?? false;

export function isControlPlane(node: V1Node): boolean {
  const labels = node.metadata?.labels ?? {};
  return 'node-role.kubernetes.io/control-plane' in labels || 'node-role.kubernetes.io/master' in labels;
}

export function nodesReady(servers: number, agents: number): Assertion {
  return watched<V1Node>({
    name: `${servers + agents} nodes Ready (${servers} control-plane, ${agents} agents)`,
    expected: `${servers} control-plane and ${agents} agent nodes, all Ready`,
    target: () => ({ apiVersion: 'v1', kind: 'Node' }),
    evaluate: (nodes) => {
      const ready = nodes.filter((n) => isReady(n.status?.conditions));
      const readyServers = ready.filter(isControlPlane).length;
      const readyAgents = ready.length - readyServers;
      return {
        pass: readyServers === servers && readyAgents === agents && ready.length === nodes.length,
        observed: `${nodes.length} nodes, Ready: ${readyServers} control-plane, ${readyAgents} agents` +
          (ready.length < nodes.length ? `; not Ready: ${nodes.filter((n) => !ready.includes(n)).map((n) => n.metadata?.name).join(', ')}` : ''),
      };
    },
  });
}

export function deploymentAvailable(name: string, podSelector?: string): Assertion {
  return watched<V1Deployment>({
    name: `Deployment ${name} is available`,
    expected: 'condition Available=True with every desired replica available',
    target: (ctx) => ({ apiVersion: 'apps/v1', kind: 'Deployment', namespace: ctx.namespace, fieldSelector: `metadata.name=${name}` }),
    evaluate: ([deployment]) => {
      if (!deployment) return { pass: false, observed: `no Deployment ${name}` };
      const desired = deployment.spec?.replicas ?? 1;
      const available = deployment.status?.availableReplicas ?? 0;
      const condition = deployment.status?.conditions?.find((c) => c.type === 'Available');
      return {
        pass: condition?.status === 'True' && available >= desired && desired > 0,
        observed: `Available=${condition?.status ?? 'unset'}${condition?.reason ? ` (${condition.reason})` : ''}, ${available}/${desired} replicas available`,
      };
    },
    diagnosePods: podSelector,
  });
}

export function serviceHasReadyEndpoint(service: string, targetPort: number): Assertion {
  return watched<V1EndpointSlice>({
    name: `Service ${service} has a ready endpoint on port ${targetPort}`,
    expected: `at least one ready endpoint serving port ${targetPort}`,
    target: (ctx) => ({
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      namespace: ctx.namespace,
      labelSelector: `kubernetes.io/service-name=${service}`,
    }),
    evaluate: (slices) => {
      const ports = new Set(slices.flatMap((s) => (s.ports ?? []).map((p) => p.port)));
      const ready = slices.flatMap((s) => s.endpoints ?? []).filter((e) => e.conditions?.ready);
      const addresses = ready.flatMap((e) => e.addresses);
      return {
        pass: ready.length > 0 && ports.has(targetPort),
        observed: slices.length === 0
          ? 'no EndpointSlice for the Service (does it exist? does its selector match a pod?)'
          : `ready endpoints: ${addresses.join(', ') || 'none'}; ports: ${[...ports].join(', ') || 'none'}`,
      };
    },
  });
}

export function ingressHasAddress(name: string): Assertion {
  return watched<V1Ingress>({
    name: `Ingress ${name} has an address`,
    expected: 'status.loadBalancer.ingress holds an IP or hostname',
    target: (ctx) => ({ apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', namespace: ctx.namespace, fieldSelector: `metadata.name=${name}` }),
    evaluate: ([ingress]) => {
      if (!ingress) return { pass: false, observed: `no Ingress ${name}` };
      const addresses = (ingress.status?.loadBalancer?.ingress ?? []).map((i) => i.ip ?? i.hostname).filter(Boolean);
      return { pass: addresses.length > 0, observed: addresses.length ? `address ${addresses.join(', ')}` : 'no address yet' };
    },
  });
}

export function podsBoundToNodes(labelSelector: string): Assertion {
  return watched<V1Pod>({
    name: `pods ${labelSelector} are bound to nodes`,
    expected: 'every pod has spec.nodeName (the scheduler bound it)',
    target: (ctx) => ({ apiVersion: 'v1', kind: 'Pod', namespace: ctx.namespace, labelSelector }),
    evaluate: (pods) => {
      const bound = pods.filter((p) => p.spec?.nodeName);
      return {
        pass: pods.length > 0 && bound.length === pods.length,
        observed: pods.length === 0 ? 'no pods' : pods.map((p) => `${p.metadata?.name} -> ${p.spec?.nodeName ?? '(unscheduled)'}`).join(', '),
      };
    },
    diagnosePods: labelSelector,
  });
}

/**
 * Cluster add-ons, by pod name prefix (coredns, traefik, metrics-server, local-path-provisioner), in
 * whichever namespace the distribution puts them (k3s: kube-system; kind: local-path-storage too).
 */
export function addonsRunning(prefixes: string[]): Assertion {
  return watched<V1Pod>({
    name: `add-ons Running (${prefixes.join(', ')})`,
    expected: prefixes.map((p) => `${p}: a Ready pod`).join('; '),
    target: () => ({ apiVersion: 'v1', kind: 'Pod' }),
    evaluate: (pods) => {
      const states = prefixes.map((prefix) => {
        const matching = pods.filter((p) => p.metadata?.name?.startsWith(prefix));
        const ready = matching.find((p) => p.status?.phase === 'Running' && isReady(p.status.conditions));
        const text = ready ? `Running in ${ready.metadata?.namespace}` : matching.map((p) => p.status?.phase).join('/') || 'absent';
        return { prefix, ready: Boolean(ready), text: `${prefix}: ${text}` };
      });
      return { pass: states.every((s) => s.ready), observed: states.map((s) => s.text).join('; ') };
    },
  });
}
