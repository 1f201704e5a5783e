import { hostHasSysResource } from '../host/privileged.js';
import { runAllowingFailure } from '../util/exec.js';

/**
 * k3d's own node image at the version kubelab forges (k3s v1.32.0+k3s1): what `--pull` fetches for
 * the k3s node image. It runs the same k3s; what it lacks is kubelab's build around it: the
 * cgroup v1 entrypoint step that keeps CPU limits, containerd's restrict_oom_score_adj, the
 * airgap images (its nodes pull the add-ons themselves) and kubelab's Traefik manifest (k3s
 * installs its packaged Traefik chart instead, which serves the lessons' Ingresses the same way).
 */
export const UPSTREAM_K3S_IMAGE = 'rancher/k3s:v1.32.0-k3s1';

/** What this host loses when rancher/k3s stands in for kubelab/k3s; undefined when nothing. */
export async function upstreamK3sCaveat(pulled: string): Promise<string | undefined> {
  const lost: string[] = [];
  const cgroup = await runAllowingFailure('docker', ['info', '--format', '{{.CgroupVersion}}']);
  if (cgroup.stdout.trim() === '1') lost.push('on this cgroup v1 host its k3s turns CPU quotas off, so pods run past their CPU limits');
  if (!hostHasSysResource()) lost.push("this host lacks CAP_SYS_RESOURCE, and its containerd's lowering of oom_score_adj may be refused");
  if (lost.length === 0) return undefined;
  return `${pulled} stands in for kubelab's k3s build: ${lost.join('; ')} (--pull never forges kubelab/k3s, which handles both)`;
}
