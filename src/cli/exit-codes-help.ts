/** Appended to the help of the program and of each lesson command: the exit codes are a contract (src/errors.ts). */
export const EXIT_CODES_HELP = `
Exit codes:
  0    every assertion passed
  1    an assertion failed (the report names it), or an internal error (printed; cleanup still ran)
  2    bad input or usage (unknown lesson, bad flag, malformed manifest)
  3    environment missing (docker not running, k3d/kind missing, port in use)
  4    cleanup failed: something kubelab made is left (the output names it and the command that removes it)
  130  interrupted (Ctrl-C / SIGTERM); kubelab cleaned up what it made`;
