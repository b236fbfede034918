/**
 * What the page knows of jobs across outputs: the widget models a kernel created (by model id, while they
 * live), and the newest state seen of each job (by kind and id) for the static rendering written at save time.
 */

import type { DOMWidgetModel } from '@jupyter-widgets/base';

const live = new Map<string, DOMWidgetModel>();
const waiting = new Map<string, Set<(model: DOMWidgetModel) => void>>();
const jobs = new Map<string, DOMWidgetModel>();

/** Note a model the kernel created (it has a comm); forgotten when it is closed. */
export function noteLiveModel(model: DOMWidgetModel): void {
  if (!model.comm_live || !model.model_id) {
    return;
  }
  const id = model.model_id;
  live.set(id, model);
  model.once('destroy', () => {
    if (live.get(id) === model) {
      live.delete(id);
    }
  });
  for (const callback of Array.from(waiting.get(id) ?? [])) {
    callback(model);
  }
  waiting.delete(id);
}

/** The kernel's live model of this id, if the page has it. */
export function liveModel(id: string): DOMWidgetModel | undefined {
  return live.get(id);
}

/** Call `callback` once when the model of this id arrives (a kernel's widgets restored after a reload). */
export function whenLive(id: string, callback: (model: DOMWidgetModel) => void): () => void {
  let set = waiting.get(id);
  if (set === undefined) {
    set = new Set();
    waiting.set(id, set);
  }
  set.add(callback);
  return () => {
    set.delete(callback);
    if (set.size === 0 && waiting.get(id) === set) {
      waiting.delete(id);
    }
  };
}

/** Note the model that follows a job, so its newest state can be saved with the notebook. */
export function noteJob(kind: 'mesh' | 'batch', id: number, model: DOMWidgetModel): void {
  const key = `${kind}:${id}`;
  const known = jobs.get(key);
  if (
    known === undefined ||
    (Number(model.get('version')) || 0) >= (Number(known.get('version')) || 0)
  ) {
    jobs.set(key, model);
  }
}

/** The newest attributes seen of a job, or undefined. */
export function jobState(kind: 'mesh' | 'batch', id: number): Record<string, unknown> | undefined {
  return jobs.get(`${kind}:${id}`)?.attributes;
}
