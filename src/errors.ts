/**
 * Exit codes are part of kubelab's contract with scripts and CI (documented in README and --help).
 */
export const ExitCode = {
  ok: 0,
  assertionFailed: 1,
  badInput: 2,
  environmentMissing: 3,
  /** The run ended, but something kubelab made could not be removed (the output names it and how). */
  cleanupFailed: 4,
  interrupted: 130,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** An error kubelab expects and can explain in one line, with the exit code it maps to. */
export class KubelabError extends Error {
  constructor(
    message: string,
    readonly exitCode: ExitCode,
    /** What the user can do about it, printed after the message. */
    readonly remedy?: string,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** Bad flag, unknown lesson, malformed manifest: the user's input is wrong. */
export class InputError extends KubelabError {
  constructor(message: string, remedy?: string) {
    super(message, ExitCode.badInput, remedy);
  }
}

/** docker not running, a CLI missing, a port taken: the machine is not ready. */
export class EnvironmentError extends KubelabError {
  constructor(message: string, remedy?: string) {
    super(message, ExitCode.environmentMissing, remedy);
  }
}

/** The run was stopped by SIGINT/SIGTERM or an AbortSignal. */
export class InterruptedError extends KubelabError {
  constructor(message = 'interrupted') {
    super(message, ExitCode.interrupted);
  }
}

/**
 * A step failed and the cleanup after it failed too: the step's error, and then what was left and
 * how to remove it. Exit 4 even when the step was an interruption: "cleanup done" would be untrue.
 */
export class CleanupFailedError extends KubelabError {
  constructor(
    readonly failures: string[],
    readonly stepError: unknown,
  ) {
    const left = failures.map((f) => `\n  ${f}`).join('');
    super(`${describeError(stepError)}\ncleanup failed, left behind:${left}`, ExitCode.cleanupFailed);
  }
}

/** A wait that ran out of time; `diagnostic` holds what the cluster looked like then. */
export class TimeoutError extends Error {
  constructor(
    message: string,
    readonly diagnostic: string,
  ) {
    super(message);
    this.name = 'TimeoutError';
  }
}

export function describeError(error: unknown): string {
  if (error instanceof KubelabError) return error.remedy ? `${error.message}\n  fix: ${error.remedy}` : error.message;
  if (error instanceof Error) return error.message;
  return String(error);
}
