import { access } from 'node:fs/promises';
import { KubeConfig } from '@kubernetes/client-node';
import { InputError } from '../errors.js';

/**
 * Checks a kubeconfig the user names (--kubeconfig/--context) before anything talks to it, and
 * returns the context to use: the named one, else the file's current context. Bad input exits 2.
 */
export async function usableContext(kubeconfig: string, context?: string): Promise<string> {
  try {
    await access(kubeconfig);
  } catch {
    throw new InputError(`--kubeconfig: ${kubeconfig} does not exist or is not readable`);
  }
  const config = new KubeConfig();
  try {
    config.loadFromFile(kubeconfig);
  } catch (error) {
    throw new InputError(`--kubeconfig: ${kubeconfig} is not a kubeconfig (${(error as Error).message})`);
  }
  if (context && !config.getContexts().some((c) => c.name === context)) {
    const known = config.getContexts().map((c) => c.name).join(', ') || 'none';
    throw new InputError(`--context: "${context}" is not in ${kubeconfig} (contexts: ${known})`);
  }
  return context ?? config.getCurrentContext();
}
