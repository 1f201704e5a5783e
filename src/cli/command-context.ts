/** What main gives every command: the run's abort signal, and where an action puts its exit code. */
export interface CommandContext {
  signal: AbortSignal;
  /** Commander itself only knows success or throw; an action that ends otherwise says so here. */
  setExitCode(code: number): void;
}
