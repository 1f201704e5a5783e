/**
 * Lesson 1 end to end: kubelab against the course's own commands run in sequence by a shell script
 * (bench/lesson1-course.sh: k3d cluster create, docker build, k3d image import, kubectl apply x3,
 * kubectl wait, curl until it answers, cluster delete), on this machine, with the same forged
 * images, alternating in one run, kubelab both ways its images reach the nodes (imported into every
 * node; through the machine registry, the default), the sides' order changing from round to round
 * (bench/stats.ts). Prints each wall time, the time of each phase on each side (the script marks its
 * phases on stderr, kubelab's --json report has them) and the ratios with their 95% intervals (goal <= 0.7).
 *   npm run bench:lesson1 [-- --rounds 1]
 */
import { execa } from 'execa';
import { parseArgs } from 'node:util';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FORGED_K3S_IMAGE } from '../src/cluster/k3d/config.js';
import { requireTool } from '../src/cluster/tools.js';
import { forgeImages } from '../src/forge/catalog.js';
import { pythonBaseTag } from '../src/images/base.js';
import { packageRoot } from '../src/util/paths.js';
import { median, ratioInterval, roundOrder } from './stats.js';

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '1' } } });
const rounds = Number(values.rounds);
const root = packageRoot();
const k3d = requireTool('k3d', 'kubelab forge k3d');

// Both sides start from the same local images; building them is not what is measured.
await forgeImages([FORGED_K3S_IMAGE, pythonBaseTag()], { signal: new AbortController().signal, onLine: () => {} });

/** The course script's phases from its "phase NAME EPOCH_MS" stderr lines: name -> ms until the next. */
function scriptPhases(stderr: string): Map<string, number> {
  const marks = [...stderr.matchAll(/^phase (\S+) (\d+)$/gm)].map((m) => ({ name: m[1]!, at: Number(m[2]) }));
  return new Map(marks.slice(0, -1).map((mark, i) => [mark.name, marks[i + 1]!.at - mark.at]));
}

async function run(command: string, args: string[], env: Record<string, string> = {}) {
  const started = performance.now();
  const result = await execa(command, args, { env, reject: false });
  const ms = performance.now() - started;
  if (result.exitCode !== 0) {
    console.error(result.stdout, result.stderr);
    throw new Error(`${command} ${args.join(' ')} exited with ${result.exitCode}`);
  }
  return { ms, stdout: String(result.stdout), stderr: String(result.stderr) };
}

// The same work under each side's name: kubelab's "images" is the script's "build", "cleanup" its
// "delete"; through the registry the images are pushed once instead of imported into every node.
const ROWS: Array<[string, string, string[]]> = [
  ['tools check', '', ['tools']],
  ['cluster create', 'provision', ['provision']],
  ['app image build', 'build', ['images']],
  ['image import / push', 'import', ['import', 'push']],
  ['apply', 'apply', ['apply']],
  ['verify (wait + HTTP)', 'verify', ['verify']],
  ['cluster delete', 'delete', ['cleanup']],
];
const SIDES = ['script', 'kubelab (import)', 'kubelab (registry)'] as const;
type Side = (typeof SIDES)[number];

const totals = new Map<Side, number[]>(SIDES.map((side) => [side, []]));
const phaseMs = new Map<string, Map<Side, number[]>>(ROWS.map(([row]) => [row, new Map(SIDES.map((side) => [side, []]))]));
const kubelabRun = async (...flags: string[]) => {
  const result = await run('node', [join(root, 'bin', 'kubelab.js'), 'run', 'lesson-1', '--json', ...flags]);
  const phases = new Map((JSON.parse(result.stdout) as { phases: { name: string; ms: number }[] }).phases.map((p) => [p.name, p.ms]));
  return { ms: result.ms, phase: (names: string[]) => names.reduce((sum, name) => sum + (phases.get(name) ?? 0), 0) };
};
// k3d leaves a hosts file per node in TMPDIR: the script's own dir, removed after each round.
const courseScript = async () => {
  const scratch = await mkdtemp(join(tmpdir(), 'kubelab-bench-course-'));
  try {
    return await run(join(root, 'bench', 'lesson1-course.sh'), [FORGED_K3S_IMAGE, pythonBaseTag()], { K3D: k3d, TMPDIR: scratch });
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
};
/** One side's run: its wall time and its phases' times, per row of ROWS. */
const measureSide: Record<Side, () => Promise<{ ms: number; phase: (row: (typeof ROWS)[number]) => number }>> = {
  script: async () => {
    const course = await courseScript();
    const phases = scriptPhases(course.stderr);
    return { ms: course.ms, phase: ([, courseName]) => phases.get(courseName) ?? 0 };
  },
  'kubelab (import)': async () => {
    const result = await kubelabRun('--images-via', 'import');
    return { ms: result.ms, phase: ([, , ourNames]) => result.phase(ourNames) };
  },
  'kubelab (registry)': async () => {
    const result = await kubelabRun();
    return { ms: result.ms, phase: ([, , ourNames]) => result.phase(ourNames) };
  },
};
for (let round = 1; round <= rounds; round++) {
  for (const side of roundOrder(SIDES, round)) {
    const measured = await measureSide[side]();
    totals.get(side)!.push(measured.ms);
    for (const row of ROWS) phaseMs.get(row[0])!.get(side)!.push(measured.phase(row));
  }
  const last = (side: Side) => `${(totals.get(side)!.at(-1)! / 1000).toFixed(1)} s`;
  console.log(`round ${round}: course script ${last('script')}, kubelab --images-via import ${last('kubelab (import)')}, kubelab (registry, the default) ${last('kubelab (registry)')}`);
}
const seconds = (ms: number) => (ms / 1000).toFixed(1).padStart(10);
const ratio = (ours: number, theirs: number) => (theirs > 0 ? `${(ours / theirs).toFixed(2)}x` : '-').padStart(8);
console.log(`\nphase (median of ${rounds})      script s  import s  registry s  ratios to the script   (kubelab's cluster create and image build run side by side)`);
for (const [row, times] of phaseMs) {
  const [script, imported, registry] = SIDES.map((side) => median(times.get(side)!));
  console.log(`${row.padEnd(24)}${seconds(script!)}${seconds(imported!)}${seconds(registry!)}${ratio(imported!, script!)}${ratio(registry!, script!)}`);
}
const [script, imported, registry] = SIDES.map((side) => median(totals.get(side)!));
console.log(`${'end to end'.padEnd(24)}${seconds(script!)}${seconds(imported!)}${seconds(registry!)}${ratio(imported!, script!)}${ratio(registry!, script!)}`);
const interval = (side: Side) => ratioInterval(totals.get(side)!, totals.get('script')!).map((r) => r.toFixed(2)).join('-');
console.log(
  `ratio kubelab / script: import ${(imported! / script!).toFixed(2)}x (95% interval ${interval('kubelab (import)')}), ` +
    `registry ${(registry! / script!).toFixed(2)}x (95% interval ${interval('kubelab (registry)')}) (goal: <= 0.70x)`,
);
