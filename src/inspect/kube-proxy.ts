import { componentArg } from './node-args.js';
import type { ComponentFacts, KubeProxyMode, NodeFacts } from './types.js';

/**
 * Why the default applies: k3s v1.32 starts its in-process kube-proxy with `proxy-mode=iptables`
 * (pkg/daemons/agent kubeProxyArgs) and lets `--kube-proxy-arg proxy-mode=…` override it; kube-proxy's
 * own /proxyMode endpoint listens on the node's loopback (127.0.0.1:10249), out of the API's reach.
 */
const K3S_DEFAULT = 'k3s default: no --kube-proxy-arg proxy-mode=… in k3s.io/node-args, and k3s starts kube-proxy with proxy-mode=iptables';

function modeOn(node: NodeFacts, kubeProxy: ComponentFacts): KubeProxyMode {
  if (!node.k3sArgs) return { node: node.name, mode: 'unknown', learnedFrom: 'no k3s.io/node-args on this node' };
  if (!kubeProxy.nodes.includes(node.name)) {
    return { node: node.name, mode: 'none', learnedFrom: 'kube-proxy does not run on this node (see the kube-proxy component)' };
  }
  const mode = componentArg(node.k3sArgs, '--kube-proxy-arg', 'proxy-mode');
  return mode
    ? { node: node.name, mode, learnedFrom: `--kube-proxy-arg proxy-mode=${mode} in k3s.io/node-args` }
    : { node: node.name, mode: 'iptables', learnedFrom: K3S_DEFAULT };
}

/** The kube-proxy mode of each node, given where kube-proxy runs (see locateComponents). */
export function kubeProxyModes(nodes: NodeFacts[], kubeProxy: ComponentFacts): KubeProxyMode[] {
  return nodes.map((node) => modeOn(node, kubeProxy));
}
