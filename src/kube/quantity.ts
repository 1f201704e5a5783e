/**
 * Kubernetes resource quantities as numbers: CPU in millicores, memory in MiB. client-node has a
 * parser but does not export it from its package entry.
 */

const DECIMAL: Record<string, number> = { n: 1e-9, u: 1e-6, m: 1e-3, '': 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18 };
const BINARY: Record<string, number> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60 };

/** The quantity in base units (cores, bytes). Throws on a malformed quantity, naming it. */
export function parseQuantity(quantity: string): number {
  const match = /^([+-]?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E)?$/.exec(quantity.trim());
  if (!match) throw new Error(`not a Kubernetes quantity: "${quantity}"`);
  const suffix = match[2] ?? '';
  return Number(match[1]) * (BINARY[suffix] ?? DECIMAL[suffix]!);
}

export const millicores = (quantity: string) => parseQuantity(quantity) * 1000;
export const mebibytes = (quantity: string) => parseQuantity(quantity) / 2 ** 20;
