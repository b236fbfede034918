/**
 * Every job a cell displays is shown, past JupyterLab's per-cell output cap (`maxNumberOutputs`, 50 by
 * default), which would otherwise hide the 51st job on behind a "Show more outputs" button. A job's view does
 * no DOM work while out of view (`visibility.ts`), so a cell of a few hundred jobs costs little; the output area
 * that holds job outputs raises its own cap, to `JOB_OUTPUT_CAP` at most. Past that JupyterLab's button stays,
 * and a batch (one widget listing its members) is the compact view for thousands.
 */

import type { Widget } from '@lumino/widgets';

export const JOB_OUTPUT_CAP = 1000;

/** The parts of JupyterLab's `OutputArea` used here (typed locally: no dependency on @jupyterlab/outputarea). */
interface CappedArea {
  maxNumberOutputs: number;
  model: { readonly length: number; readonly changed: { connect(slot: () => void): boolean } };
}

function isCappedArea(value: unknown): value is CappedArea {
  const area = value as Partial<CappedArea> | null;
  return (
    typeof area?.maxNumberOutputs === 'number' &&
    typeof area.model?.length === 'number' &&
    typeof area.model.changed?.connect === 'function'
  );
}

const watched = new WeakSet<CappedArea>();

/** Raise the cap of the output area holding `output` (a job's renderer) whenever its outputs pass it. */
export function showAllJobOutputs(output: Widget): void {
  let node = output.parent;
  for (let depth = 0; node !== null && depth < 4; depth++, node = node.parent) {
    if (isCappedArea(node)) {
      watch(node);
      return;
    }
  }
}

function watch(area: CappedArea): void {
  if (watched.has(area)) {
    return;
  }
  watched.add(area);
  const lift = (): void => {
    // Only once outputs were cut: the area's setter then replaces its "Show more outputs" button with them.
    if (area.model.length > area.maxNumberOutputs && area.maxNumberOutputs < JOB_OUTPUT_CAP) {
      area.maxNumberOutputs = JOB_OUTPUT_CAP;
    }
  };
  area.model.changed.connect(lift);
  lift();
}
