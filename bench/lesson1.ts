/**
 * Lesson 1 end to end: kubelab against the course's own commands run in sequence by a shell script
 * (bench/lesson1-course.sh: k3d cluster create, docker build, k3d image import, kubectl apply x3,
 * kubectl wait, curl until it answers, cluster delete), on this machine, with the same forged
 * images, alternating in one run. Prints each wall time and the ratio kubelab / script (goal <= 0.7).
 *   npm run bench:lesson1 [-- --rounds 1]
 */
import { execa } from 'execa';
import { parseArgs } from 'node:util';
import { join } from 'node:path';
import { FORGED_K3S_IMAGE } from '../src/cluster/k3d/config.js';
import { requireTool } from '../src/cluster/tools.js';
import { forgeImages } from '../src/forge/catalog.js';
import { pythonBaseTag } from '../src/images/base.js';
import { packageRoot } from '../src/util/paths.js';

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '1' } } });
const rounds = Number(values.rounds);
const root = packageRoot();
const k3d = requireTool('k3d', 'kubelab forge k3d');

// Both sides start from the same local images; building them is not what is measured.
await forgeImages([FORGED_K3S_IMAGE, pythonBaseTag()], { signal: new AbortController().signal, onLine: () => {} });

async function timed(command: string, args: string[], env: Record<string, string> = {}): Promise<number> {
  const started = performance.now();
  const result = await execa(command, args, { env, reject: false, all: true });
  const ms = performance.now() - started;
  if (result.exitCode !== 0) {
    console.error(result.all);
    throw new Error(`${command} ${args.join(' ')} exited with ${result.exitCode}`);
  }
  return ms;
}

const script: number[] = [];
const kubelab: number[] = [];
for (let round = 1; round <= rounds; round++) {
  script.push(await timed(join(root, 'bench', 'lesson1-course.sh'), [FORGED_K3S_IMAGE, pythonBaseTag()], { K3D: k3d }));
  kubelab.push(await timed('node', [join(root, 'bin', 'kubelab.js'), 'run', 'lesson-1', '--json']));
  console.log(`round ${round}: course script ${(script.at(-1)! / 1000).toFixed(1)} s, kubelab run lesson-1 ${(kubelab.at(-1)! / 1000).toFixed(1)} s`);
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const ratio = median(kubelab) / median(script);
console.log(`lesson 1 end to end, median of ${rounds}: script ${(median(script) / 1000).toFixed(1)} s, kubelab ${(median(kubelab) / 1000).toFixed(1)} s`);
console.log(`ratio kubelab / script ${ratio.toFixed(2)}x (goal: <= 0.70x)`);
