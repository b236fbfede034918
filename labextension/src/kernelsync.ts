/**
 * Mirrors widget models' state to their kernels (`w.progress`, `w.status`): at once when the status changes,
 * otherwise at most once per `SYNC_MS` per model and at most one model per `SYNC_GAP_MS` for the whole page.
 *
 * Each message costs the page serialisation, the kernel a `set_state`, and the page two kernel status messages
 * back (busy, idle), each of which JupyterLab renders. With one sync per widget per second, 100 widgets kept the
 * kernel busy a hundred times a second and that traffic was the largest part of the page's main-thread work; the
 * page-wide gap bounds it however many widgets are live (200 widgets: each mirrored every 10 s while running,
 * every status change at once). Changes between syncs are sent together (ipywidgets buffers them until
 * `save_changes`). A model without a kernel (a saved output shown live) syncs nothing.
 */

import type { DOMWidgetModel } from '@jupyter-widgets/base';

/** Least time between two routine syncs of one model, in milliseconds. */
export const SYNC_MS = 1000;
/** Least time between two routine syncs on the page, in milliseconds: at most 10 a second. */
export const SYNC_GAP_MS = 100;

/** What the queue needs of a model: a live comm and a way to send what changed. */
export interface Syncable {
  readonly comm_live: boolean;
  save_changes(): void;
}

export interface Clock {
  now(): number;
  setTimeout(callback: () => void, ms: number): unknown;
}

/** Models waiting for a routine sync, served oldest first, one per gap. */
export class SyncQueue<M extends Syncable> {
  private readonly last = new WeakMap<M, number>();
  private readonly waiting = new Set<M>(); // insertion order: the longest waiting first
  private pending = false;

  constructor(private readonly clock: Clock) {}

  /** Sync `model` now when `urgent`, otherwise in its turn. */
  request(model: M, urgent: boolean): void {
    if (!model.comm_live) {
      return;
    }
    if (urgent) {
      this.flush(model);
      return;
    }
    this.waiting.add(model);
    this.schedule();
  }

  get size(): number {
    return this.waiting.size;
  }

  private flush(model: M): void {
    this.waiting.delete(model);
    this.last.set(model, this.clock.now());
    model.save_changes();
  }

  private schedule(): void {
    if (!this.pending && this.waiting.size > 0) {
      this.pending = true;
      this.clock.setTimeout(() => this.pump(), SYNC_GAP_MS);
    }
  }

  private pump(): void {
    this.pending = false;
    const now = this.clock.now();
    for (const model of this.waiting) {
      if (!model.comm_live) {
        this.waiting.delete(model); // its kernel is gone: nothing to mirror to
      } else if (now - (this.last.get(model) ?? -Infinity) >= SYNC_MS) {
        this.flush(model);
        break;
      }
    }
    this.schedule();
  }
}

const queue = new SyncQueue<DOMWidgetModel>({
  now: () => Date.now(),
  setTimeout: (callback, ms) => window.setTimeout(callback, ms)
});

/** Set `attributes` on the model and mirror them to the kernel soon (now when `urgent`). */
export function setAndSync(
  model: DOMWidgetModel,
  attributes: Record<string, unknown>,
  urgent: boolean
): void {
  model.set(attributes);
  queue.request(model, urgent);
}
