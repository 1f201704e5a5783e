/**
 * A suite against its lessons run one by one: `kubelab run lesson-1 lesson-2` (one cluster, created
 * once, lesson 1's objects deleted before lesson 2) vs `kubelab run lesson-1` then `kubelab run
 * lesson-2` (a cluster each), in the same session, alternating. Prints each wall time and the ratio
 * suite / separate (goal <= 0.6).
 *   npm run bench:suite [-- --rounds 1]
 * Lesson 2's cluster is lesson 1's (yadoc-exposed, port 8081): nothing else may be running it.
 */
import { execa } from 'execa';
import { parseArgs } from 'node:util';
import { join } from 'node:path';
import { packageRoot } from '../src/util/paths.js';
import { median } from './stats.js';

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '1' } } });
const rounds = Number(values.rounds);
const cli = join(packageRoot(), 'bin', 'kubelab.js');

interface Timed {
  ms: number;
  /** Each lesson's phases (outcome.phases of the --json report): name -> ms. */
  phases: Map<string, number>[];
}

async function timed(args: string[]): Promise<Timed> {
  const started = performance.now();
  const result = await execa('node', [cli, 'run', ...args, '--json'], { reject: false });
  const ms = performance.now() - started;
  if (result.exitCode !== 0) {
    console.error(result.stdout, result.stderr);
    throw new Error(`kubelab run ${args.join(' ')} exited with ${result.exitCode}`);
  }
  const parsed = JSON.parse(String(result.stdout)) as unknown;
  const outcomes = (Array.isArray(parsed) ? parsed : [parsed]) as { phases: { name: string; ms: number }[] }[];
  return { ms, phases: outcomes.map((o) => new Map(o.phases.map((p) => [p.name, p.ms]))) };
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const separate: number[] = [];
const suite: number[] = [];
/** What sharing the cluster can save at most: lesson 2's own create and lesson 1's own delete. */
const floors: number[] = [];
for (let round = 1; round <= rounds; round++) {
  const one = await timed(['lesson-1']);
  const two = await timed(['lesson-2']);
  separate.push(one.ms + two.ms);
  const both = await timed(['lesson-1', 'lesson-2']);
  suite.push(both.ms);
  const shareable = (two.phases[0]!.get('provision') ?? 0) + (one.phases[0]!.get('cleanup') ?? 0);
  floors.push((separate.at(-1)! - shareable) / separate.at(-1)!);
  console.log(`round ${round}: separate ${seconds(separate.at(-1)!)} (lesson-1 ${seconds(one.ms)}, lesson-2 ${seconds(two.ms)}), suite ${seconds(both.ms)}`);
  const names = [...new Set([one, two, both].flatMap((t) => t.phases.flatMap((p) => [...p.keys()])))];
  const row = (label: string, phases: Map<string, number>) => `  ${label.padEnd(18)}${names.map((n) => (phases.has(n) ? seconds(phases.get(n)!) : '-').padStart(10)).join('')}`;
  console.log(`  ${'phases'.padEnd(18)}${names.map((n) => n.padStart(10)).join('')}`);
  console.log(row('lesson-1 alone', one.phases[0]!));
  console.log(row('lesson-2 alone', two.phases[0]!));
  both.phases.forEach((phases, i) => console.log(row(`suite lesson-${i + 1}`, phases)));
}
console.log(`lessons 1 and 2, median of ${rounds}: separate ${seconds(median(separate))}, suite ${seconds(median(suite))}`);
console.log(`ratio suite / separate ${(median(suite) / median(separate)).toFixed(2)}x (goal: <= 0.60x)`);
console.log(`floor: sharing one cluster saves at most lesson 2's create and lesson 1's delete: ${median(floors).toFixed(2)}x`);
