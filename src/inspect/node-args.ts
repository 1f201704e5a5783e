import type { K3sArgs, K3sFlag } from './types.js';

/** k3s writes each node's process arguments here (pkg/nodeconfig), secrets replaced by `********`. */
export const NODE_ARGS_ANNOTATION = 'k3s.io/node-args';

/**
 * Parses the `k3s.io/node-args` annotation: a JSON list such as
 * `["server","--cluster-init","--tls-san","0.0.0.0","--kube-proxy-arg","proxy-mode=ipvs"]`.
 * k3s has already split every `--flag=value` at its first `=` and merged config.yaml in, so a flag's
 * value is the next element unless that element is itself a flag (then the flag is a boolean). The
 * `--*-arg` flags always take one: their value may start with dashes (`--kube-proxy-arg=--v=2`).
 */
export function parseNodeArgs(json: string): K3sArgs {
  const list: unknown = JSON.parse(json);
  if (!Array.isArray(list) || !list.every((item) => typeof item === 'string')) {
    throw new Error(`${NODE_ARGS_ANNOTATION} is not a JSON list of strings: ${json.slice(0, 120)}`);
  }
  const words = list as string[];
  const commandAt = words.findIndex((word) => !isFlag(word));
  const command = commandAt === -1 ? '' : words[commandAt]!;
  const flags: K3sFlag[] = [];
  for (let i = commandAt + 1; i < words.length; i++) {
    const name = words[i]!;
    if (!isFlag(name)) continue;
    const next = words[i + 1];
    if (next !== undefined && (!isFlag(next) || isComponentArgFlag(name))) {
      flags.push({ name, value: next });
      i++;
    } else {
      flags.push({ name });
    }
  }
  return { command, flags };
}

function isFlag(word: string): boolean {
  return word.startsWith('-') && word.length > 1;
}

/** `--kube-apiserver-arg`, `--kubelet-arg`, `--kube-proxy-arg`, `--etcd-arg`...: extra arguments for a component. */
function isComponentArgFlag(name: string): boolean {
  return name.startsWith('--') && name.endsWith('-arg');
}

/** Every value given to `name` (k3s flags such as `--kube-proxy-arg` and `--disable` repeat). */
export function flagValues(args: K3sArgs, name: string): string[] {
  return args.flags.filter((f) => f.name === name && f.value !== undefined).map((f) => f.value!);
}

/** True when the flag is present and not set to `false` (`--cluster-init` or `--cluster-init=true`). */
export function hasFlag(args: K3sArgs, name: string): boolean {
  return args.flags.some((f) => f.name === name && f.value !== 'false');
}

/**
 * The value of `key` among a component's extra arguments, e.g. `proxy-mode` in
 * `--kube-proxy-arg proxy-mode=ipvs`. The last one wins, as when k3s builds the component's flags.
 */
export function componentArg(args: K3sArgs, flag: string, key: string): string | undefined {
  let found: string | undefined;
  for (const value of flagValues(args, flag)) {
    const [name, ...rest] = value.replace(/^-+/, '').split('=');
    if (name === key && rest.length > 0) found = rest.join('=');
  }
  return found;
}

/** The arguments as one command line, for the report. */
export function formatNodeArgs(args: K3sArgs): string {
  return [args.command, ...args.flags.map((f) => (f.value === undefined ? f.name : `${f.name} ${f.value}`))].join(' ');
}
