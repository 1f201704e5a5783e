import { setMaxListeners } from 'node:events';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Command, CommanderError, Option } from 'commander';
import { removeKubeconfig } from '../cluster/kubeconfig-file.js';
import { PROVIDERS, providerFor } from '../cluster/registry.js';
import { describeError, ExitCode, InputError, KubelabError } from '../errors.js';
import { lessonIds, loadLesson } from '../lab/catalog.js';
import { findLeftovers } from '../lab/gc.js';
import { runLesson, upLesson, verifyLesson, type LessonOutcome } from '../lab/runner.js';
import { apiServerVersion } from '../kube/api-version.js';
import { connect } from '../kube/client.js';
import { renderHtmlReport } from '../report/html.js';
import { checkReportTargets } from './output-paths.js';
import { toJunit } from '../report/junit.js';
import { formatTimelineSummary, formatTrace } from '../report/timeline-text.js';
import { formatSummary, toJson } from '../report/summary.js';
import { detectOutputMode } from '../report/tasks.js';
import { abortOnSignals } from '../util/cleanup.js';
import { kubeconfigPath } from '../util/paths.js';
import { resolveClusterAccess } from './access.js';
import { existingCompanions } from './companions.js';
import { clusterSpecFor, companionSpecsFor, parseSeconds } from './options.js';
import { doctorCommand } from './doctor.js';
import { forgeCommand } from './forge.js';
import { inspectCommand } from './inspect.js';

const EXIT_CODES_HELP = `
Exit codes:
  0    every assertion passed
  1    an assertion failed (the report names it), or an internal error (printed; cleanup still ran)
  2    bad input or usage (unknown lesson, bad flag, malformed manifest)
  3    environment missing (docker not running, k3d/kind missing, port in use)
  4    cleanup failed: something kubelab made is left (the output names it and the command that removes it)
  130  interrupted (Ctrl-C / SIGTERM); kubelab cleaned up what it made`;

interface ReportFlags {
  json?: boolean;
  junit?: string;
  report?: string;
  trace?: boolean;
}

async function report(outcome: LessonOutcome, flags: ReportFlags): Promise<number> {
  if (flags.junit) await writeFile(flags.junit, toJunit([outcome]));
  if (flags.report) {
    await mkdir(flags.report, { recursive: true });
    const file = join(flags.report, `${outcome.lesson}.html`);
    await writeFile(file, renderHtmlReport({ outcome, timeline: outcome.timeline, trace: outcome.trace }));
    process.stderr.write(`report: ${file}\n`);
  }
  if (flags.json) process.stdout.write(toJson(outcome) + '\n');
  else {
    const sections = [formatSummary(outcome)];
    if (outcome.timeline) sections.push(formatTimelineSummary(outcome.timeline));
    if (outcome.trace) sections.push(formatTrace(outcome.trace));
    process.stdout.write(sections.join('\n\n') + '\n');
  }
  if (outcome.cleanupFailures.length > 0) return ExitCode.cleanupFailed;
  return outcome.results.every((r) => r.pass) && outcome.results.length > 0 ? ExitCode.ok : ExitCode.assertionFailed;
}

function reportOptions(command: Command): Command {
  return command
    .option('--json', 'print the report as JSON (no live progress)')
    .option('--junit <file>', 'write a JUnit XML report, one testcase per assertion')
    .option('--report <dir>', 'write a self-contained HTML report (charts, events, trace) into this directory')
    .option('--trace', "follow the lesson's Deployment hop by hop, from apply to its first answer, and print the timeline");
}

function clusterOptions(command: Command): Command {
  return command
    .addOption(new Option('--provider <name>', 'cluster provider').choices([...PROVIDERS]))
    .option('--name <cluster>', "cluster name (default: the lesson's)")
    .option('--image <ref>', 'node image (k3s for k3d, kindest/node-like for kind)');
}

function imageOptions(command: Command): Command {
  return command
    .option('--base-image <ref>', 'base image for the lesson apps (default: python:3.9-alpine if present locally, else kubelab\'s Debian base)')
    .option('--rebuild', 'rebuild images even when their build context is unchanged');
}

/** Holds the exit code an action decided on; commander itself only knows success or throw. */
let actionExitCode: number = ExitCode.ok;

export function buildProgram(controller: AbortController): Command {
  const program = new Command('kubelab')
    .description('Run Kubernetes lessons end to end on real k3d and kind clusters, and prove what each teaches.')
    .version('0.1.0')
    .showHelpAfterError('(run with --help for usage)')
    .addHelpText('after', EXIT_CODES_HELP)
    .exitOverride();

  const signal = controller.signal;

  reportOptions(imageOptions(clusterOptions(program.command('run')
    .description('provision the lesson cluster, build and import images, apply, exercise, verify, clean up')
    .argument('<lesson>', 'lesson id (e.g. lesson-1) or a lesson file of yours (e.g. ./my-lesson.ts)')
    .option('--manifests <dir>', "apply these manifests instead of the lesson's own")
    .option('--keep', 'keep the cluster afterwards (for kubectl, or for `kubelab verify`)')
    .option('--timeout <seconds>', 'how long each assertion may wait for the cluster', '300'))))
    .addHelpText('after', EXIT_CODES_HELP)
    .action(async (id: string, flags) => {
      await checkReportTargets(flags);
      const lesson = await loadLesson(id);
      const spec = clusterSpecFor(lesson, flags);
      const outcome = await runLesson(lesson, {
        provider: providerFor(spec.provider),
        spec,
        companions: companionSpecsFor(lesson, spec),
        images: { baseImage: flags.baseImage, rebuild: Boolean(flags.rebuild) },
        manifests: flags.manifests,
        keep: Boolean(flags.keep),
        assertionTimeoutMs: parseSeconds(flags.timeout, '--timeout'),
        signal,
        output: detectOutputMode(Boolean(flags.json)),
        trace: Boolean(flags.trace),
      });
      actionExitCode = await report(outcome, flags);
      if (flags.keep && outcome.access) process.stderr.write(`cluster kept: export KUBECONFIG=${outcome.access.kubeconfig}\n`);
    });

  imageOptions(clusterOptions(program.command('up')
    .description("provision the lesson's cluster and import its images, apply nothing; follow the course by hand from `kubectl apply`")
    .argument('<lesson>', 'lesson id or lesson file')))
    .addHelpText('after', EXIT_CODES_HELP)
    .action(async (id: string, flags) => {
      const lesson = await loadLesson(id);
      const spec = clusterSpecFor(lesson, flags);
      const access = await upLesson(lesson, {
        provider: providerFor(spec.provider),
        spec,
        companions: companionSpecsFor(lesson, spec),
        images: { baseImage: flags.baseImage, rebuild: Boolean(flags.rebuild) },
        signal,
        output: detectOutputMode(false),
      });
      process.stdout.write(
        `cluster ${spec.name} is up\n  context:    ${access.context}\n  kubeconfig: ${access.kubeconfig}\n` +
          `next: export KUBECONFIG=${access.kubeconfig}; kubectl apply -f manifests/${lesson.manifests}/\n` +
          `then: kubelab verify ${lesson.id}; when done: kubelab down ${lesson.id}\n`,
      );
    });

  reportOptions(program.command('verify')
    .description("check only the lesson's assertions against a cluster you built (exit 1 names what is wrong)")
    .argument('<lesson>', 'lesson id or lesson file')
    .option('--kubeconfig <file>', "kubeconfig of the cluster (default: the lesson's kubelab cluster)")
    .option('--context <name>', 'context in that kubeconfig')
    .option('--name <cluster>', "kubelab cluster name (default: the lesson's)")
    .addOption(new Option('--provider <name>', 'provider of the kubelab cluster').choices([...PROVIDERS]))
    .option('--timeout <seconds>', 'how long each assertion may wait', '60'))
    .addHelpText('after', EXIT_CODES_HELP)
    .action(async (id: string, flags) => {
      await checkReportTargets(flags);
      const assertionTimeoutMs = parseSeconds(flags.timeout, '--timeout'); // every flag is checked before the cluster is asked
      const lesson = await loadLesson(id);
      const spec = clusterSpecFor(lesson, flags);
      const access = await resolveClusterAccess(flags, spec, { signal, createHint: `kubelab up ${id}` });
      await apiServerVersion(connect(access), { signal });
      const companions = flags.kubeconfig || flags.context ? new Map() : await existingCompanions(lesson, spec, signal);
      const outcome = await verifyLesson(
        lesson,
        access,
        spec,
        {
          assertionTimeoutMs,
          signal,
          output: detectOutputMode(Boolean(flags.json)),
          trace: Boolean(flags.trace),
          ...(flags.kubeconfig || flags.context ? {} : { provider: providerFor(spec.provider) }),
        },
        companions,
      );
      actionExitCode = await report(outcome, flags);
    });

  program.command('gc')
    .description('remove what killed runs left: clusters they would have deleted, stale claims and kubeconfigs, temp dirs of processes that are gone')
    .option('--dry-run', 'list what would be removed; remove nothing')
    .action(async (flags: { dryRun?: boolean }) => {
      const leftovers = await findLeftovers(signal);
      if (leftovers.length === 0) process.stdout.write('nothing left behind\n');
      let failed = 0;
      for (const leftover of leftovers) {
        if (flags.dryRun) {
          process.stdout.write(`would remove ${leftover.what}\n`);
          continue;
        }
        await leftover.remove().then(
          () => process.stdout.write(`removed ${leftover.what}\n`),
          (error: Error) => {
            failed += 1;
            process.stderr.write(`kubelab: could not remove ${leftover.what}: ${error.message}\n`);
          },
        );
      }
      actionExitCode = failed > 0 ? ExitCode.cleanupFailed : ExitCode.ok;
    });

  program.command('down')
    .description("delete a lesson's cluster (or every lesson cluster kubelab knows, on every provider, with --all)")
    .argument('[lesson]', 'lesson id')
    .option('--all', "delete every lesson's cluster that exists, on k3d and on kind")
    .addOption(new Option('--provider <name>', 'provider').choices([...PROVIDERS]))
    .option('--name <cluster>', 'cluster name')
    .action(async (id: string | undefined, flags) => {
      if (!id && !flags.all) throw new InputError('down: name a lesson or pass --all');
      const ids = flags.all ? await lessonIds() : [id!];
      // A lesson runs on either provider (--provider): --all looks on each one that is available.
      const providers = flags.all && !flags.provider ? PROVIDERS : [undefined];
      for (const lessonId of ids) {
        const lesson = await loadLesson(lessonId);
        for (const providerName of providers) {
          const spec = clusterSpecFor(lesson, flags.all ? { provider: flags.provider ?? providerName } : flags);
          const provider = providerFor(spec.provider);
          if (flags.all && !flags.provider && (await provider.ensureAvailable().then(() => false, () => true))) continue;
          await provider.ensureAvailable();
          for (const cluster of [spec, ...companionSpecsFor(lesson, spec)]) {
            if (!(await provider.describe(cluster.name, { signal }))) {
              if (!flags.all) process.stdout.write(`no ${cluster.provider} cluster ${cluster.name}: nothing to delete\n`);
              continue;
            }
            await provider.delete(cluster.name, { signal });
            await removeKubeconfig(cluster.name);
            process.stdout.write(`deleted ${cluster.provider} cluster ${cluster.name}\n`);
          }
        }
      }
    });

  program.command('list')
    .description('list lessons and the clusters that exist for them')
    .action(async () => {
      const rows = ['LESSON      CLUSTER              PROVIDER  NODES      STATE'];
      for (const id of await lessonIds()) {
        const lesson = await loadLesson(id);
        const spec = clusterSpecFor(lesson, {});
        let state = 'absent';
        let nodes = `${spec.servers}+${spec.agents}`;
        try {
          const observed = await providerFor(spec.provider).describe(spec.name, { signal });
          if (observed) {
            state = 'running';
            nodes = `${observed.servers}+${observed.agents}`;
          }
        } catch (error) {
          state = `unknown (${error instanceof KubelabError ? error.message : 'error'})`;
        }
        rows.push(`${id.padEnd(11)} ${spec.name.padEnd(20)} ${spec.provider.padEnd(9)} ${nodes.padEnd(10)} ${state}`);
        rows.push(`            ${lesson.title}`);
      }
      process.stdout.write(rows.join('\n') + '\n');
    });

  program.command('kubeconfig')
    .description("print the path of a lesson cluster's kubeconfig (kubelab never edits ~/.kube/config)")
    .argument('<lesson>', 'lesson id')
    .option('--name <cluster>', 'cluster name')
    .action(async (id: string, flags) => {
      const spec = clusterSpecFor(await loadLesson(id), flags);
      process.stdout.write(kubeconfigPath(spec.name) + '\n');
    });

  doctorCommand(program, signal, (code) => (actionExitCode = code));
  forgeCommand(program, signal, (code) => (actionExitCode = code));
  inspectCommand(program, signal);
  return program;
}

export async function main(argv: string[]): Promise<number> {
  const controller = new AbortController();
  // Every watch, recorder and request of a run listens on this one signal at the same time.
  setMaxListeners(200, controller.signal);
  const stopListening = abortOnSignals(controller);
  // A promise rejected with nobody waiting would end the process at once, skipping every cleanup:
  // stop the run instead, so that what it made is removed, and exit non-zero naming it.
  let internalError: unknown;
  const onUnhandled = (reason: unknown) => {
    internalError ??= reason;
    process.stderr.write(`kubelab: internal error, stopping and cleaning up: ${describeError(reason)}\n`);
    controller.abort(reason);
  };
  process.on('unhandledRejection', onUnhandled);
  const interrupted = () => controller.signal.aborted && internalError === undefined;
  actionExitCode = ExitCode.ok;
  try {
    await buildProgram(controller).parseAsync(argv);
    if (internalError !== undefined && actionExitCode === ExitCode.ok) return ExitCode.assertionFailed;
    // Interrupted during teardown: the run finished cleaning up, but the user stopped it.
    if (interrupted() && actionExitCode !== ExitCode.cleanupFailed) {
      process.stderr.write('kubelab: interrupted; cleanup done\n');
      return ExitCode.interrupted;
    }
    return actionExitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version exit 0; every other commander error is a usage error.
      return error.exitCode === 0 ? ExitCode.ok : ExitCode.badInput;
    }
    if (interrupted()) {
      process.stderr.write('kubelab: interrupted; cleanup done\n');
      return ExitCode.interrupted;
    }
    process.stderr.write(`kubelab: ${describeError(error)}\n`);
    if (error instanceof KubelabError) return error.exitCode;
    if (process.env.KUBELAB_DEBUG && error instanceof Error) process.stderr.write(`${error.stack}\n`);
    return ExitCode.assertionFailed;
  } finally {
    stopListening();
    process.off('unhandledRejection', onUnhandled);
  }
}
