/** One line of `kubelab doctor`: what was checked, whether it holds, and how to fix it. */
export interface Check {
  name: string;
  ok: boolean;
  detail: string;
  /** The command or step that fixes it. */
  fix?: string;
  /** A fix `kubelab doctor --fix` knows how to apply. */
  fixId?: 'docker-install' | 'docker-start' | 'tools' | 'debootstrap' | 'privileged';
  /** Not required for every lesson (e.g. kind when lessons use k3d). */
  optional?: boolean;
}
