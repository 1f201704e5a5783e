import { healthLine } from './health.js';
import { formatNodeArgs } from './node-args.js';
import type { ComponentFacts, ContainerFacts, ControlPlaneReport, HealthReport, Placement } from './types.js';

/** Left-aligned columns, each as wide as its widest cell; the last column is not padded. */
export function columns(rows: string[][], indent = '  '): string[] {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  return rows.map((row) => indent + row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  ').trimEnd());
}

const bullet = (text: string) => `      · ${text}`;

function header(report: ControlPlaneReport): string[] {
  const { apiServer, access } = report;
  return [
    `Control plane of context ${access.context} (${apiServer.server})`,
    `  kubeconfig  ${access.kubeconfig}`,
    `  API server  ${apiServer.gitVersion} ${apiServer.platform}${apiServer.distribution === 'k3s' ? ', a k3s build (+k3s in /version)' : ''}`,
  ];
}

function nodesSection(report: ControlPlaneReport): string[] {
  const rows = report.nodes.map((n) => [
    n.name,
    n.roles.join(',') || '<none>',
    n.ready ? 'Ready' : 'NotReady',
    n.kubeletVersion,
    n.containerRuntime,
    n.osImage,
    n.kernel,
    n.internalIP ?? '',
  ]);
  const args = report.nodes.flatMap((n) => (n.k3sArgs ? [`  k3s.io/node-args of ${n.name}: ${formatNodeArgs(n.k3sArgs)}`] : []));
  return ['', 'NODES', ...columns([['NAME', 'ROLES', 'STATUS', 'VERSION', 'RUNTIME', 'OS IMAGE', 'KERNEL', 'INTERNAL-IP'], ...rows]), ...args];
}

const PLACEMENT_HEADINGS: [Placement, string][] = [
  ['in-process', 'INSIDE THE K3S PROCESS (no pod)'],
  ['child-process', 'CHILD PROCESS OF K3S (no pod)'],
  ['static-pod', "AS STATIC PODS (the kubelet runs them from manifest files; the API shows mirror pods)"],
  ['pod', 'AS PODS'],
  ['node-service', 'ON EVERY NODE, OUTSIDE KUBERNETES (no pod, no k3s)'],
  ['not-running', 'NOT RUNNING'],
  ['unknown', 'NOT LOCATED'],
];

function componentLine(component: ComponentFacts): string {
  const where = component.placement === 'pod' || component.placement === 'static-pod' ? component.pods.join(', ') : component.nodes.join(', ');
  return `  ${component.name.padEnd(26)} ${where}`;
}

function componentsSection(report: ControlPlaneReport): string[] {
  const lines: string[] = [];
  for (const [placement, heading] of PLACEMENT_HEADINGS) {
    const group = report.components.filter((c) => c.placement === placement);
    if (group.length === 0) continue;
    lines.push('', `COMPONENTS ${heading}`);
    for (const component of group) lines.push(componentLine(component), ...component.evidence.map(bullet));
  }
  return lines;
}

function containerRow(pod: { name: string; node?: string; phase: string }, container: ContainerFacts): string[] {
  const version = container.tag ?? `@${container.digest?.slice(0, 19)}`;
  return [pod.name, pod.node ?? '', pod.phase, container.name, container.repository, version];
}

function podsSection(report: ControlPlaneReport): string[] {
  const entries = report.pods.flatMap((pod) => pod.containers.map((container) => ({ pod, container })));
  const table = columns([['POD', 'NODE', 'PHASE', 'CONTAINER', 'IMAGE', 'TAG'], ...entries.map((e) => containerRow(e.pod, e.container))]);
  const lines = ['', 'KUBE-SYSTEM PODS', table[0]!];
  entries.forEach(({ container }, i) => {
    lines.push(table[i + 1]!);
    if (container.command.length > 0) lines.push(`      command: ${container.command.join(' ')}`);
    if (container.args.length > 0) lines.push(`      args: ${container.args.join(' ')}`);
  });
  return lines;
}

function healthBlock(report: HealthReport): string[] {
  return [`  ${report.path}  HTTP ${report.status}, ${report.summary}`, ...report.checks.map((c) => `      ${healthLine(c)}`)];
}

function datastoreSection({ datastore }: ControlPlaneReport): string[] {
  const members = datastore.members.map((m) =>
    [m.name, m.node ? `node ${m.node}` : '', m.address ? `address ${m.address}` : '', m.id ? `id ${m.id}` : '', m.isLearner ? 'learner' : '', m.peerURLs ? `peer ${m.peerURLs.join(',')}` : '']
      .filter(Boolean)
      .join('  '),
  );
  return [
    '',
    'DATASTORE',
    `  ${datastore.description}`,
    ...(members.length > 0 ? [`  members, from ${datastore.membersSource}:`, ...members.map((m) => `    ${m}`)] : []),
    ...datastore.evidence.map(bullet),
  ];
}

function ingressSection({ ingress }: ControlPlaneReport): string[] {
  const classes = ingress.classes.map(
    (c) => `  IngressClass ${c.name}${c.isDefault ? ' (default: annotation ingressclass.kubernetes.io/is-default-class=true)' : ''}, controller ${c.controller}`,
  );
  const controllers = ingress.controllers.map(
    (w) => `  ${w.kind} ${w.namespace}/${w.name}  ${w.ready} ready  ${w.images.join(', ')}\n${bullet(`found by ${w.matchedBy}`)}`,
  );
  return ['', 'INGRESS', ...classes, ...controllers, ...ingress.evidence.map(bullet)];
}

function coreDnsSection({ coredns }: ControlPlaneReport): string[] {
  const others = coredns.otherKeys.length > 0 ? `; other keys: ${coredns.otherKeys.join(', ')}` : '';
  const body = coredns.corefile ? coredns.corefile.trimEnd().split('\n').map((line) => `    ${line}`) : coredns.evidence.map(bullet);
  return ['', `COREDNS (ConfigMap ${coredns.configMap}, key Corefile${others})`, ...body];
}

function kubeProxySection(report: ControlPlaneReport): string[] {
  return ['', 'KUBE-PROXY MODE', ...columns(report.kubeProxy.map((m) => [m.node, m.mode, m.learnedFrom]))];
}

/** The report as text: one section per question, each fact followed by how it was learned. */
export function formatControlPlaneReport(report: ControlPlaneReport): string {
  return [
    ...header(report),
    ...nodesSection(report),
    ...componentsSection(report),
    ...podsSection(report),
    '',
    'HEALTH',
    ...healthBlock(report.health.livez),
    ...healthBlock(report.health.readyz),
    ...datastoreSection(report),
    ...ingressSection(report),
    ...coreDnsSection(report),
    ...kubeProxySection(report),
  ].join('\n');
}
