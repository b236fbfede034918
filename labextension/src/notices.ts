/**
 * Page-wide notices that a widget view shows a job, so the sidebar lists a job created from a notebook at
 * once instead of on its next poll.
 */

import type { JobKind } from './joblist';

type Listener = (kind: JobKind, id: number) => void;

const listeners = new Set<Listener>();

/** Tell whoever listens that a view on this page shows this job. */
export function announceJob(kind: JobKind, id: number): void {
  for (const listener of Array.from(listeners)) {
    listener(kind, id);
  }
}

/** Listen to `announceJob`; call the result to stop. */
export function onJobAnnounced(listener: Listener): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}
