import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { EnvironmentError } from '../errors.js';
import { toolsDir } from '../util/paths.js';

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The tool's path: on PATH first, then in kubelab's tools dir (where `kubelab forge` puts k3d and kind). */
export function findTool(tool: string): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(delimiter).filter(Boolean), toolsDir()];
  return dirs.map((dir) => join(dir, tool)).find(isExecutable);
}

export function requireTool(tool: string, remedy: string): string {
  const path = findTool(tool);
  if (!path) throw new EnvironmentError(`${tool} is not installed (not on PATH, not in ${toolsDir()})`, remedy);
  return path;
}
