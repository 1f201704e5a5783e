import { Listr, type ListrDefaultRenderer, type ListrSimpleRenderer, type ListrTask } from 'listr2';

export type OutputMode = 'tty' | 'plain' | 'silent';

/**
 * listr2's live renderer on an interactive terminal; plain lines (the `simple` renderer) in CI, in
 * pipes, or when the terminal reports no width (the live renderer then prints a char per line).
 */
export function detectOutputMode(json: boolean): OutputMode {
  if (json) return 'silent';
  const interactive = process.stdout.isTTY === true && (process.stdout.columns ?? 0) > 0 && !process.env.CI;
  return interactive ? 'tty' : 'plain';
}

export type Task<Ctx> = ListrTask<Ctx, ListrDefaultRenderer, ListrSimpleRenderer>;

export function taskList<Ctx>(tasks: Task<Ctx>[], mode: OutputMode, flow: { concurrent?: boolean; exitOnError?: boolean } = {}): Listr<Ctx> {
  return new Listr<Ctx>(tasks, {
    concurrent: flow.concurrent ?? false,
    renderer: 'default',
    fallbackRenderer: 'simple',
    fallbackRendererCondition: mode === 'plain',
    silentRendererCondition: mode === 'silent',
    exitOnError: flow.exitOnError ?? true,
    // listr2's own SIGINT handler exits at once (code 127): kubelab's handler aborts and cleans up.
    registerSignalListeners: false,
    rendererOptions: { collapseSubtasks: false, collapseErrors: false, showErrorMessage: true },
  });
}
