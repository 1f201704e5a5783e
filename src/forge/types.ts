export interface ForgeOptions {
  /** Rebuild even when the same inputs were built before. */
  force?: boolean;
  signal?: AbortSignal;
  onLine?: (line: string) => void;
}

/** Where a forged artifact is and whether it is current (built from today's inputs). */
export interface ForgeStatus {
  present: boolean;
  /** An image tag or a file path. */
  location: string;
  sizeBytes?: number;
}

export interface ForgeResult extends ForgeStatus {
  skipped: boolean;
  durationMs: number;
}

/** One thing `kubelab forge` builds: a CLI or an image, named by its inputs. */
export interface ForgeItem {
  name: string;
  kind: 'tool' | 'image';
  /** Where it lands: the image tag its consumer asks for, or the tool's path. */
  location: string;
  /** The inputs and their versions, e.g. "github.com/k3d-io/k3d/v5@v5.9.0". */
  sources: string;
  /** A rough cold-build time on 2 cores, for the "this will take about" line; absent when it cannot be built. */
  estimateSeconds?: number;
  /** The locations (image tags) this one is made from: the items that make them are forged first when missing. */
  needs?: readonly string[];
  /**
   * Images only: the names a registry has it under, which `--pull` tries in order (default: its
   * location, which for most forged images is the upstream name itself); empty when nothing upstream
   * can stand in for it.
   */
  upstream?: readonly string[];
  /** What differs when a pulled upstream image stands in for this build (said once one does). */
  pullCaveat?: (pulled: string) => Promise<string | undefined>;
  status(): Promise<ForgeStatus>;
  ensure(options: ForgeOptions): Promise<ForgeResult>;
}
