import type { TimelineEvent } from './timeline.js';

/** Something that went wrong during a run, as the timeline records it (marked as a fault, at its time). */
export type Fault = Omit<TimelineEvent, 't' | 'fault' | 'source'>;
