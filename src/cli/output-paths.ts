import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { InputError } from '../errors.js';

async function kindOf(path: string): Promise<'file' | 'dir' | undefined> {
  const info = await stat(path).catch(() => undefined);
  return info ? (info.isDirectory() ? 'dir' : 'file') : undefined;
}

async function assertWritableDir(dir: string, flag: string, what: string): Promise<void> {
  if ((await kindOf(dir)) !== 'dir') throw new InputError(`${flag}: ${what}: folder ${dir} does not exist`, `create it, or name a file in an existing folder`);
  await access(dir, constants.W_OK).catch(() => {
    throw new InputError(`${flag}: ${what}: folder ${dir} is not writable`);
  });
}

/**
 * Checks the report targets before any work starts: a lesson that runs for minutes must not end in
 * a report it cannot write. `--junit` names a file in an existing folder; `--report` a folder that
 * exists or can be created.
 */
export async function checkReportTargets(flags: { junit?: string; report?: string }): Promise<void> {
  if (flags.junit) {
    const file = resolve(flags.junit);
    if ((await kindOf(file)) === 'dir') throw new InputError(`--junit: ${flags.junit} is a folder; name the XML file to write`);
    await assertWritableDir(dirname(file), '--junit', flags.junit);
  }
  if (flags.report) {
    let dir = resolve(flags.report);
    const kind = await kindOf(dir);
    if (kind === 'file') throw new InputError(`--report: ${flags.report} is a file; name the folder the HTML report goes into`);
    if (kind === undefined) {
      // Created at the end with its missing parents: the nearest existing one must be a writable folder.
      while ((await kindOf(dir)) === undefined && dirname(dir) !== dir) dir = dirname(dir);
      if ((await kindOf(dir)) === 'file') throw new InputError(`--report: ${flags.report} cannot be created: ${dir} is a file`);
    }
    await assertWritableDir(dir, '--report', flags.report);
  }
}
