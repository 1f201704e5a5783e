import { Writable } from 'node:stream';
import { Exec, type V1Status } from '@kubernetes/client-node';
import type { Kube } from './client.js';

export interface ExecResult {
  stdout: string;
  stderr: string;
  /** 0 on success; the command's exit code otherwise (from the API's final status). */
  exitCode: number;
}

function collector(chunks: Buffer[]): Writable {
  return new Writable({
    write(chunk: Buffer, _encoding, done) {
      chunks.push(Buffer.from(chunk));
      done();
    },
  });
}

/** The exit code in the exec channel's final status: Success, or NonZeroExitCode with an ExitCode cause. */
function exitCodeOf(status: V1Status): number {
  if (status.status === 'Success') return 0;
  const cause = status.details?.causes?.find((c) => c.reason === 'ExitCode');
  return cause?.message ? Number(cause.message) : 1;
}

/**
 * Runs a command in a pod's container through the API server (what `kubectl exec` does), with a
 * deadline: a command that never ends fails with what it printed so far.
 */
export async function execInPod(
  kube: Kube,
  target: { namespace: string; pod: string; container: string },
  command: readonly string[],
  options: { timeoutMs?: number; signal?: AbortSignal } = {},
): Promise<ExecResult> {
  const stdout: Buffer[] = [];
  const stderr: Buffer[] = [];
  const text = (chunks: Buffer[]) => Buffer.concat(chunks).toString('utf8');
  const timeoutMs = options.timeoutMs ?? 30_000;
  return new Promise<ExecResult>((resolve, reject) => {
    let socket: { close(): void } | undefined;
    const finish = (outcome: ExecResult | Error) => {
      clearTimeout(deadline);
      options.signal?.removeEventListener('abort', onAbort);
      socket?.close();
      if (outcome instanceof Error) reject(outcome);
      else resolve(outcome);
    };
    const where = `${target.namespace}/${target.pod} (${target.container})`;
    const deadline = setTimeout(
      () => finish(new Error(`exec ${command.join(' ')} in ${where} did not finish within ${timeoutMs} ms; output so far: ${text(stdout)}${text(stderr)}`)),
      timeoutMs,
    );
    const onAbort = () => finish(Object.assign(new Error(`exec ${command.join(' ')} was cancelled`), { name: 'AbortError' }));
    options.signal?.addEventListener('abort', onAbort, { once: true });
    new Exec(kube.config)
      .exec(target.namespace, target.pod, target.container, [...command], collector(stdout), collector(stderr), null, false, (status) =>
        finish({ stdout: text(stdout), stderr: text(stderr), exitCode: exitCodeOf(status) }),
      )
      .then((ws) => {
        socket = ws;
      })
      .catch((error: unknown) => finish(new Error(`exec ${command.join(' ')} in ${where}: ${(error as Error).message}`)));
  });
}
