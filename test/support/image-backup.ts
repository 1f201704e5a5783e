import { execa } from 'execa';

/**
 * Takes images out of the local store for a test without losing them: each name present is first
 * tagged `kubelab-test-backup/...:<pid>` (so its layers stay), then untagged. `restore()` removes
 * whatever the test left under those names and puts the originals back, so a failed test never costs
 * this machine a re-forge.
 */
export interface SetAside {
  /** The names that were present and are now only under their backup tags. */
  readonly names: readonly string[];
  restore(): Promise<void>;
}

const imageId = async (ref: string) => (await execa('docker', ['image', 'inspect', '--format', '{{.Id}}', ref], { reject: false })).stdout.trim();

export const backupTag = (name: string) => `kubelab-test-backup/${name.replace(/[^a-z0-9]+/gi, '-').toLowerCase()}:${process.pid}`;

export async function setAside(names: readonly string[]): Promise<SetAside> {
  const saved: string[] = [];
  const restore = async (): Promise<void> => {
    for (const name of names) {
      const backup = backupTag(name);
      const original = await imageId(backup);
      const now = await imageId(name);
      // Untags only: another tag (the backup, or forge's content-addressed one) keeps shared layers.
      if (now && now !== original) await execa('docker', ['image', 'rm', name]);
      if (original) {
        await execa('docker', ['tag', backup, name]);
        await execa('docker', ['image', 'rm', backup]);
      }
    }
  };
  try {
    for (const name of names) {
      if (!(await imageId(name))) continue;
      await execa('docker', ['tag', name, backupTag(name)]);
      if (!(await imageId(backupTag(name)))) throw new Error(`backup tag ${backupTag(name)} of ${name} is missing: not removing ${name}`);
      saved.push(name);
      await execa('docker', ['image', 'rm', name]);
    }
  } catch (error) {
    await restore();
    throw error;
  }
  return { names: saved, restore };
}
