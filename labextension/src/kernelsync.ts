/**
 * Mirrors a widget model's state to its kernel (`w.progress`, `w.status`) at most once per `SYNC_MS`, and at
 * once when the status changes. Each message costs the page serialisation and the kernel a `set_state`: 200
 * widgets at 10 Hz would be 2,000 messages a second. Changes between syncs are sent together (ipywidgets
 * buffers them until `save_changes`). A model without a kernel (a saved output shown live) syncs nothing.
 */

import type { DOMWidgetModel } from '@jupyter-widgets/base';

/** Least time between two syncs of one model, in milliseconds. */
export const SYNC_MS = 1000;

class KernelSync {
  private last = 0;
  private timer: number | null = null;

  constructor(private readonly model: DOMWidgetModel) {}

  request(now: boolean): void {
    if (!this.model.comm_live) {
      return;
    }
    const wait = this.last + SYNC_MS - Date.now();
    if (now || wait <= 0) {
      this.flush();
    } else if (this.timer === null) {
      this.timer = window.setTimeout(() => this.flush(), wait);
    }
  }

  private flush(): void {
    if (this.timer !== null) {
      window.clearTimeout(this.timer);
      this.timer = null;
    }
    this.last = Date.now();
    if (this.model.comm_live) {
      this.model.save_changes();
    }
  }
}

const syncs = new WeakMap<DOMWidgetModel, KernelSync>();

/** Set `attributes` on the model and mirror them to the kernel soon (now when `urgent`). */
export function setAndSync(
  model: DOMWidgetModel,
  attributes: Record<string, unknown>,
  urgent: boolean
): void {
  model.set(attributes);
  let sync = syncs.get(model);
  if (sync === undefined) {
    sync = new KernelSync(model);
    syncs.set(model, sync);
  }
  sync.request(urgent);
}
