/**
 * The path of a Deployment from `kubectl apply` to its first answered request, hop by hop, with the
 * component responsible for each hop.
 */
export interface TraceHop {
  /** What happened, e.g. "Scheduled". */
  step: string;
  /** Who did it, e.g. "scheduler", "kubelet", "endpointslice controller". */
  component: string;
  /** Epoch milliseconds. */
  at: number;
  /** The object or place, e.g. "pod myapp-6d4f9-x2x7q to k3d-yadoc-exposed-agent-1". */
  detail: string;
  /**
   * How kubelab learned the time: "watch" is when a kubelab watch saw it (millisecond clock of this
   * machine); "server" is a timestamp the API server stored (whole seconds).
   */
  source: 'watch' | 'server';
}

export interface Trace {
  /** e.g. "deployment hpa-test/myapp". */
  subject: string;
  /** Epoch milliseconds of the first hop's reference (the apply). */
  startedAt: number;
  hops: TraceHop[];
  /** Hops that never happened before the trace ended, by step name. */
  missing: string[];
}
