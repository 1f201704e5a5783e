/**
 * A name for one piece of evidence together with the type of its value: an exercise step sets it,
 * an assertion reads it, and neither needs a cast. Keys are compared by identity, not by name.
 */
export interface EvidenceKey<T> {
  readonly name: string;
  /** Never set: carries T for the compiler. */
  readonly valueType?: T;
}

export function evidenceKey<T>(name: string): EvidenceKey<T> {
  return { name };
}

/** What exercise steps measured or made, for the assertions after them (see LessonContext.evidence). */
export class Evidence {
  private readonly values = new Map<EvidenceKey<unknown>, unknown>();

  set<T>(key: EvidenceKey<T>, value: T): void {
    this.values.set(key, value);
  }

  /** The value a step set, or undefined when no step did (e.g. `kubelab verify`, which runs none). */
  get<T>(key: EvidenceKey<T>): T | undefined {
    return this.values.get(key) as T | undefined;
  }
}
