import { setMaxListeners } from 'node:events';
import { Command, CommanderError } from 'commander';
import { CleanupFailedError, describeError, ExitCode, KubelabError } from '../errors.js';
import { detectOutputMode } from '../report/tasks.js';
import { abortOnInterruption } from '../util/cleanup.js';
import { endToolLog, startToolLog } from '../util/tool-log.js';
import type { CommandContext } from './command-context.js';
import { doctorCommand } from './commands/doctor.js';
import { downCommand } from './commands/down.js';
import { forgeCommand } from './commands/forge.js';
import { gcCommand } from './commands/gc.js';
import { inspectCommand } from './commands/inspect.js';
import { kubeconfigCommand } from './commands/kubeconfig.js';
import { listCommand } from './commands/list.js';
import { newCommand } from './commands/new.js';
import { runCommand } from './commands/run.js';
import { upCommand } from './commands/up.js';
import { verifyCommand } from './commands/verify.js';
import { EXIT_CODES_HELP } from './exit-codes-help.js';

/** Holds the exit code an action decided on; commander itself only knows success or throw. */
let actionExitCode: number = ExitCode.ok;

/** The program with every command on it, in the order --help lists them (each command is its own file). */
export function buildProgram(controller: AbortController): Command {
  const program = new Command('kubelab')
    .description('Run Kubernetes lessons end to end on real k3d and kind clusters, and prove what each teaches.')
    .version('0.1.0')
    .showHelpAfterError('(run with --help for usage)')
    .addHelpText('after', EXIT_CODES_HELP)
    .exitOverride()
    // Named after the command that runs (`forge`, `run`, `lesson` for `new lesson`).
    .hook('preAction', (_program, action) => startToolLog(action.name(), detectOutputMode(false) === 'tty'));
  const context: CommandContext = { signal: controller.signal, setExitCode: (code) => (actionExitCode = code) };
  for (const addCommand of [runCommand, upCommand, verifyCommand, gcCommand, downCommand, listCommand, kubeconfigCommand, doctorCommand, forgeCommand, inspectCommand, newCommand]) {
    addCommand(program, context);
  }
  return program;
}

export async function main(argv: string[]): Promise<number> {
  const controller = new AbortController();
  // Every watch, recorder and request of a run listens on this one signal at the same time.
  setMaxListeners(200, controller.signal);
  const stopListening = abortOnInterruption(controller);
  // A promise rejected with nobody waiting, or an exception thrown in an event handler, would end the
  // process at once, skipping every cleanup:
  // stop the run instead, so that what it made is removed, and exit non-zero naming it.
  let internalError: { reason: unknown } | undefined;
  const onUnhandled = (reason: unknown) => {
    // Said once: what follows an internal error is often its echo.
    if (internalError !== undefined) return;
    internalError = { reason };
    process.stderr.write(`kubelab: internal error, stopping and cleaning up: ${describeError(reason)}\n`);
    controller.abort(reason);
  };
  process.on('unhandledRejection', onUnhandled);
  process.on('uncaughtException', onUnhandled);
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
    if (interrupted() && !(error instanceof CleanupFailedError)) {
      process.stderr.write('kubelab: interrupted; cleanup done\n');
      return ExitCode.interrupted;
    }
    process.stderr.write(`kubelab: ${describeError(error)}\n`);
    if (error instanceof KubelabError) return error.exitCode;
    if (process.env.KUBELAB_DEBUG && error instanceof Error) process.stderr.write(`${error.stack}\n`);
    return ExitCode.assertionFailed;
  } finally {
    const log = await endToolLog();
    // Last, after the summary or the error: where the tools' full output is.
    if (log) process.stderr.write(log.failure ? `kubelab: tool output not saved to ${log.path}: ${log.failure}\n` : `tool output: ${log.path}\n`);
    stopListening();
    process.off('unhandledRejection', onUnhandled);
    process.off('uncaughtException', onUnhandled);
  }
}
