import { Option, type Command } from 'commander';
import { InputError } from '../../errors.js';
import { lessonIds, loadLesson } from '../../lab/catalog.js';
import { runLesson } from '../../lab/runner.js';
import { runSuite, stoppedSuiteOutcomes } from '../../lab/suite.js';
import type { LessonOutcome } from '../../lab/outcome.js';
import type { Lesson } from '../../lab/types.js';
import { detectOutputMode } from '../../report/tasks.js';
import type { CommandContext } from '../command-context.js';
import { EXIT_CODES_HELP } from '../exit-codes-help.js';
import { clusterOptions, imageOptions, parseSeconds, reportOptions } from '../options.js';
import { lessonClustersFor } from '../../lab/lesson-clusters.js';
import { checkReportTargets } from '../output-paths.js';
import { reportOutcome, reportOutcomes } from '../report-outcome.js';
import { resolveClusterAccess, type AccessFlags } from '../access.js';
import { DEFAULT_IMAGES_VIA, IMAGES_VIA } from '../../images/lesson-images.js';
import { existingTargetOf, type ExistingCluster } from '../../lab/existing-cluster.js';

interface TargetFlags extends AccessFlags {
  registry?: string;
  provider?: string;
  name?: string;
  image?: string;
  imagesVia?: string;
}

/** --kubeconfig/--context: a cluster of the user's instead of one kubelab makes, whose flags then do not apply. */
async function existingCluster(flags: TargetFlags, signal: AbortSignal): Promise<ExistingCluster | undefined> {
  const target = existingTargetOf({
    named: Boolean(flags.kubeconfig || flags.context),
    namedBy: '--kubeconfig/--context',
    ...(flags.registry === undefined ? {} : { registry: { option: '--registry', value: flags.registry } }),
    makeOptions: (['provider', 'name', 'image', 'imagesVia'] as const)
      .filter((flag) => flags[flag] !== undefined)
      .map((flag) => `--${flag.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`),
  });
  if (!target) return undefined;
  const access = await resolveClusterAccess(flags, undefined, { signal, createHint: '' });
  return { access, ...target };
}

/** The lessons to run, from the arguments or --all; a suite's flags that only fit one lesson are refused. */
async function lessonsToRun(refs: string[], flags: { all?: boolean; manifests?: string; name?: string }): Promise<string[]> {
  if (flags.all && refs.length > 0) throw new InputError(`--all runs every built-in lesson: drop ${refs.join(', ')}, or drop --all`);
  if (!flags.all && refs.length === 0) throw new InputError('name a lesson to run (e.g. lesson-1), several, or --all', 'kubelab list shows the built-in lessons');
  const lessons = flags.all ? await lessonIds() : refs;
  if (lessons.length > 1) {
    if (flags.manifests) throw new InputError('--manifests replaces one lesson\'s manifests: run that lesson alone');
    if (flags.name) throw new InputError('--name renames one lesson\'s cluster: run that lesson alone');
  }
  return lessons;
}

export function runCommand(program: Command, { signal, setExitCode }: CommandContext): void {
  reportOptions(imageOptions(clusterOptions(program.command('run')
    .description('provision the lesson cluster, build and import images, apply, exercise, verify, clean up; several lessons run as a suite')
    .argument('[lessons...]', 'lesson ids (e.g. lesson-1) or lesson files of yours (e.g. ./my-lesson.ts); several run in order as one suite')
    .option('--all', 'run every built-in lesson as one suite')
    .option('--manifests <dir>', "apply these manifests instead of the lesson's own")
    .option('--keep', 'keep the cluster afterwards (for kubectl, or for `kubelab verify`); with --kubeconfig, keep what the lesson created')
    .addOption(new Option('--images-via <how>', `how the lesson's images reach the nodes: registry = pushed once to kubelab's registry, pulled by the nodes that run them (on k3d the add-ons too); import = into every node (default: ${DEFAULT_IMAGES_VIA})`).choices([...IMAGES_VIA]))
    .option('--kubeconfig <file>', 'run in this cluster of yours instead of making one: kubelab creates only objects that do not exist there and deletes exactly those afterwards')
    .option('--context <name>', 'the context of that kubeconfig (default: its current one)')
    .option('--registry <host[:port]>', "with --kubeconfig: push the lesson's images here, as your cluster's nodes pull from it (e.g. localhost:5001)")
    .option('--timeout <seconds>', 'how long each assertion may wait for the cluster', '300'))))
    .addHelpText('after', EXIT_CODES_HELP)
    .action(async (refs: string[], flags) => {
      const ids = await lessonsToRun(refs, flags);
      await checkReportTargets(flags);
      const existing = await existingCluster(flags, signal);
      const session = {
        ...(existing ? { existing } : {}),
        keep: Boolean(flags.keep),
        assertionTimeoutMs: parseSeconds(flags.timeout, '--timeout'),
        signal,
        output: detectOutputMode(Boolean(flags.json)),
        trace: Boolean(flags.trace),
      };
      if (ids.length === 1 && !flags.all) {
        const lesson = await loadLesson(ids[0]!);
        const outcome = await runLesson(lesson, { ...lessonClustersFor(lesson, flags), manifests: flags.manifests, ...session });
        setExitCode(await reportOutcome(outcome, flags));
        if (flags.keep && existing) process.stderr.write(`what ${lesson.id} created is kept in context ${existing.access.context}\n`);
        else if (flags.keep && outcome.access) process.stderr.write(`cluster kept: export KUBECONFIG=${outcome.access.kubeconfig}\n`);
        return;
      }
      // Every lesson is loaded (an unknown one named) before any cluster is created.
      const lessons: Lesson[] = [];
      for (const id of ids) lessons.push(await loadLesson(id));
      const finished: LessonOutcome[] = [];
      const outcomes = await runSuite(lessons, {
        ...session,
        choices: flags,
        onLine: (line) => process.stderr.write(`suite: ${line}\n`),
        onLessonDone: (outcome) => finished.push(outcome),
      }).catch(async (error: unknown) => {
        // Stopped half-way: the lessons that finished are still reported (--junit, --report), then the error decides the exit code.
        // An interruption surfaces as whatever step it cut short: the report names the interruption itself.
        await reportOutcomes(stoppedSuiteOutcomes(lessons, finished, signal.aborted ? signal.reason : error), flags);
        throw error;
      });
      setExitCode(await reportOutcomes(outcomes, flags));
    });
}
