import { taskList, type OutputMode, type Task } from '../report/tasks.js';
import { forgeItems, forgePlan, type PlannedItem } from './catalog.js';
import { ForgeQueue } from './queue.js';
import type { ForgeItem, ForgeResult } from './types.js';

export interface ForgeOutcome {
  item: ForgeItem;
  result?: ForgeResult;
  error?: Error;
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const megabytes = (bytes?: number) => (bytes === undefined ? '-' : `${(bytes / 1e6).toFixed(1)} MB`);

/** Checks item names; an unknown name is the caller's input error to report. No names means every item. */
export function selectItems(names: string[]): { names: string[]; unknown: string[] } {
  const all = forgeItems().map((item) => item.name);
  if (names.length === 0) return { names: all, unknown: [] };
  return { names: all.filter((name) => names.includes(name)), unknown: names.filter((name) => !all.includes(name)) };
}

/**
 * Builds the asked-for items that are missing (all of them when forced) and the missing items they
 * are made from, side by side in up to `jobs` lanes; items already current report "cached".
 */
export async function forge(
  names: string[],
  options: { force: boolean; jobs: number; signal: AbortSignal; output: OutputMode },
): Promise<ForgeOutcome[]> {
  const plan = await forgePlan(names, options.force);
  const queue = new ForgeQueue(plan.map((entry) => entry.item), options.jobs);
  const outcomes: ForgeOutcome[] = plan.map((entry) => ({ item: entry.item }));
  const taskFor = (entry: PlannedItem, outcome: ForgeOutcome): Task<unknown> => ({
    title: `${entry.item.name} (${entry.asked ? '' : 'needed, '}${entry.item.sources})`,
    task: async (_ctx, task) => {
      try {
        outcome.result = await queue.run(
          entry.item,
          () => {
            const estimate = entry.item.estimateSeconds;
            if (entry.builds && estimate) task.output = `building, about ${Math.ceil(estimate / 60)} min when cold`;
            return entry.item.ensure({ force: options.force && entry.asked, signal: options.signal, onLine: (line) => (task.output = line) });
          },
          (line) => (task.output = line),
        );
      } catch (error) {
        outcome.error = error as Error;
        throw error;
      }
      const r = outcome.result;
      task.title = `${entry.item.name}: ${r.skipped ? 'cached' : `built in ${seconds(r.durationMs)}`}, ${megabytes(r.sizeBytes)} (${r.location})`;
    },
  });
  const list = taskList<unknown>(plan.map((entry, i) => taskFor(entry, outcomes[i]!)), options.output, { concurrent: true, exitOnError: false });
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
