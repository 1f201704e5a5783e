import { readdir, readFile, stat } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { LineCounter, parseAllDocuments } from 'yaml';
import { InputError } from '../errors.js';

/** One object of a manifest file, with where it came from for error messages. */
export interface Manifest {
  apiVersion: string;
  kind: string;
  name: string;
  namespace?: string;
  body: Record<string, unknown> & { metadata: Record<string, unknown> };
  /** `file:line` of the document's start. */
  source: string;
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Parses multi-document YAML text; every error names `file:line` and the field. */
export function parseManifests(text: string, file: string): Manifest[] {
  const lineCounter = new LineCounter();
  const documents = parseAllDocuments(text, { lineCounter, prettyErrors: false });
  if (!Array.isArray(documents)) {
    // parseAllDocuments returns an EmptyStream for empty input.
    return [];
  }
  const manifests: Manifest[] = [];
  for (const document of documents) {
    const start = document.range[0];
    const where = (offset = start) => `${file}:${lineCounter.linePos(offset).line}`;
    const error = document.errors[0];
    if (error) throw new InputError(`${where(error.pos[0])}: invalid YAML: ${error.message.split('\n')[0]}`);
    let value: unknown;
    try {
      // An alias to no anchor, or so many aliases that expanding them would exhaust memory (yaml's
      // limit), fails here rather than in the parser's error list.
      value = document.toJS({ maxAliasCount: 100 });
    } catch (error) {
      throw new InputError(`${where()}: invalid YAML: ${(error as Error).message.split('\n')[0]}`);
    }
    if (value === null || value === undefined) continue;
    const source = where(document.contents?.range[0] ?? start);
    if (!isRecord(value)) throw new InputError(`${source}: a manifest must be a mapping with apiVersion, kind and metadata`);
    for (const field of ['apiVersion', 'kind'] as const) {
      if (typeof value[field] !== 'string' || !value[field]) throw new InputError(`${source}: field "${field}" is missing or not a string`);
    }
    const metadata = value.metadata;
    if (!isRecord(metadata) || typeof metadata.name !== 'string' || !metadata.name) {
      throw new InputError(`${source}: field "metadata.name" is missing (${String(value.kind)})`);
    }
    if (metadata.namespace !== undefined && typeof metadata.namespace !== 'string') {
      throw new InputError(`${source}: field "metadata.namespace" must be a string`);
    }
    manifests.push({
      apiVersion: value.apiVersion as string,
      kind: value.kind as string,
      name: metadata.name,
      namespace: metadata.namespace as string | undefined,
      body: value as Manifest['body'],
      source,
    });
  }
  return manifests;
}

/** Reads a manifest file, or every .yaml/.yml file of a directory in name order. */
export async function loadManifests(path: string, flag = '--manifests'): Promise<Manifest[]> {
  const info = await stat(path).catch(() => undefined);
  if (!info) throw new InputError(`${flag}: ${path} does not exist`);
  const files = info.isDirectory()
    ? (await readdir(path)).filter((f) => /\.ya?ml$/.test(f)).sort().map((f) => join(path, f))
    : [path];
  if (files.length === 0) throw new InputError(`${flag}: ${path} holds no .yaml or .yml files`);
  const manifests: Manifest[] = [];
  for (const file of files) {
    const shown = relative(process.cwd(), file) || file;
    manifests.push(...parseManifests(await readFile(file, 'utf8'), shown.startsWith('..') ? file : shown));
  }
  if (manifests.length === 0) throw new InputError(`${flag}: ${path} holds no Kubernetes objects`);
  return manifests;
}
