import { taskList, type OutputMode, type Task } from '../report/tasks.js';
import { forgeItems } from './catalog.js';
import type { ForgeItem, ForgeResult } from './types.js';

export interface ForgeOutcome {
  item: ForgeItem;
  result?: ForgeResult;
  error?: Error;
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const megabytes = (bytes?: number) => (bytes === undefined ? '-' : `${(bytes / 1e6).toFixed(1)} MB`);

/** Selects items by name; an unknown name is the caller's input error to report. */
export function selectItems(names: string[]): { items: ForgeItem[]; unknown: string[] } {
  const all = forgeItems();
  if (names.length === 0) return { items: all, unknown: [] };
  return {
    items: all.filter((i) => names.includes(i.name)),
    unknown: names.filter((n) => !all.some((i) => i.name === n)),
  };
}

/**
 * Builds what is missing: Go tools one after another and images one after another, the two groups
 * side by side (compiling is CPU-bound, debootstrap mostly waits on the mirror).
 */
export async function forge(items: ForgeItem[], options: { force: boolean; signal: AbortSignal; output: OutputMode }): Promise<ForgeOutcome[]> {
  const outcomes: ForgeOutcome[] = items.map((item) => ({ item }));
  const taskFor = (outcome: ForgeOutcome): Task<unknown> => ({
    title: `${outcome.item.name} (${outcome.item.sources})`,
    task: async (_ctx, task) => {
      const status = await outcome.item.status();
      const estimate = outcome.item.estimateSeconds;
      if ((!status.present || options.force) && estimate) task.output = `building, about ${Math.ceil(estimate / 60)} min when cold`;
      try {
        outcome.result = await outcome.item.ensure({ force: options.force, signal: options.signal, onLine: (line) => (task.output = line) });
      } catch (error) {
        outcome.error = error as Error;
        throw error;
      }
      const r = outcome.result;
      task.title = `${outcome.item.name}: ${r.skipped ? 'cached' : `built in ${seconds(r.durationMs)}`}, ${megabytes(r.sizeBytes)} (${r.location})`;
    },
  });
  const group = (kind: ForgeItem['kind'], title: string): Task<unknown> => ({
    title,
    task: (_ctx, parent) => parent.newListr(outcomes.filter((o) => o.item.kind === kind).map(taskFor), { concurrent: false, exitOnError: false }),
  });
  const list = taskList<unknown>([group('tool', 'tools (Go module proxy)'), group('image', 'images (Debian packages)')], options.output, {
    concurrent: true,
    exitOnError: false,
  });
  await list.run({});
  return outcomes;
}

/** `kubelab forge --list`: every item, whether it is present, where, its size and its inputs. */
export async function formatForgeList(items: ForgeItem[]): Promise<string> {
  const rows = [`${'NAME'.padEnd(16)} ${'KIND'.padEnd(6)} ${'STATE'.padEnd(8)} ${'SIZE'.padEnd(9)} ${'WHERE'.padEnd(44)} SOURCES`];
  for (const item of items) {
    const status = await item.status();
    rows.push(
      `${item.name.padEnd(16)} ${item.kind.padEnd(6)} ${(status.present ? 'present' : 'missing').padEnd(8)} ` +
        `${megabytes(status.sizeBytes).padEnd(9)} ${status.location.padEnd(44)} ${item.sources}`,
    );
  }
  return rows.join('\n');
}
