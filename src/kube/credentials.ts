import { chmod, mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { KubeConfig } from '@kubernetes/client-node';
import type { CleanupStack } from '../util/cleanup.js';

export interface ExtractedCredentials {
  dir: string;
  caFile: string;
  certFile: string;
  keyFile: string;
  server: string;
}

const decode = (data: string | undefined, field: string): Buffer => {
  if (!data) throw new Error(`kubeconfig has no ${field}`);
  return Buffer.from(data, 'base64');
};

/**
 * What the course does with base64 -d: the CA, client certificate and key of the current context,
 * as files in a private (0700) directory, each 0600, removed at cleanup.
 */
export async function extractCredentials(config: KubeConfig, parentDir: string, cleanup: CleanupStack): Promise<ExtractedCredentials> {
  const cluster = config.getCurrentCluster();
  const user = config.getCurrentUser();
  if (!cluster || !user) throw new Error('kubeconfig has no current cluster or user');
  const dir = join(parentDir, 'credentials');
  await mkdir(dir, { recursive: true, mode: 0o700 });
  cleanup.register(`remove extracted credentials ${dir}`, () => rm(dir, { recursive: true, force: true }));
  const files = {
    caFile: [join(dir, 'ca.crt'), decode(cluster.caData, 'certificate-authority-data')],
    certFile: [join(dir, 'client.crt'), decode(user.certData, 'client-certificate-data')],
    keyFile: [join(dir, 'client.key'), decode(user.keyData, 'client-key-data')],
  } as const;
  for (const [path, content] of Object.values(files)) {
    await writeFile(path, content, { mode: 0o600 });
    await chmod(path, 0o600);
  }
  return { dir, caFile: files.caFile[0], certFile: files.certFile[0], keyFile: files.keyFile[0], server: cluster.server };
}
