import type { ClusterSpec } from '../cluster/spec.js';

/** One lesson of a suite as the plan sees it: its id and its clusters, its own first, then its companions. */
export interface SuiteMemberClusters {
  lesson: string;
  clusters: ClusterSpec[];
}

/** When each cluster of one lesson of a suite comes and goes. */
export interface SuiteStep {
  lesson: string;
  /** Clusters created for this lesson. */
  creates: string[];
  /** Clusters the lesson before left up for this one. */
  reuses: string[];
  /** Clusters deleted once this lesson is done. */
  deletesAfter: string[];
  /** Clusters left standing at the end of the suite (`--keep`). */
  keepsAfter: string[];
  /** The next lesson runs on this lesson's own cluster: what this lesson applied is deleted when it is done. */
  removesApplied: boolean;
}

/** The spec as text with its keys sorted: two lessons share a cluster only when they declare the same one. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value).filter(([, v]) => v !== undefined).sort(([a], [b]) => a.localeCompare(b));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

const sameCluster = (a: ClusterSpec, b: ClusterSpec) => canonical(a) === canonical(b);
const uses = (member: SuiteMemberClusters | undefined, spec: ClusterSpec) => member?.clusters.some((c) => sameCluster(c, spec)) ?? false;

/**
 * Which lessons share which cluster, and when each is created and deleted. A cluster stays up only
 * from one lesson to the next that declares the very same cluster: a lesson in between may publish
 * the same host ports (the course's lessons 1 and 3 both take 8081), so a cluster used again later
 * is deleted and created anew. With `keep`, a cluster's last stretch is left standing.
 */
export function planSuite(members: SuiteMemberClusters[], keep: boolean): SuiteStep[] {
  return members.map((member, index) => {
    const previous = members[index - 1];
    const next = members[index + 1];
    const endsHere = member.clusters.filter((spec) => !uses(next, spec));
    const usedLater = (spec: ClusterSpec) => members.slice(index + 1).some((later) => later.clusters.some((c) => c.name === spec.name));
    const kept = keep ? endsHere.filter((spec) => !usedLater(spec)) : [];
    const names = (specs: ClusterSpec[]) => specs.map((spec) => spec.name);
    return {
      lesson: member.lesson,
      creates: names(member.clusters.filter((spec) => !uses(previous, spec))),
      reuses: names(member.clusters.filter((spec) => uses(previous, spec))),
      deletesAfter: names(endsHere.filter((spec) => !kept.includes(spec))),
      keepsAfter: names(kept),
      removesApplied: member.clusters[0] !== undefined && uses(next, member.clusters[0]),
    };
  });
}
