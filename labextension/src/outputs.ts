/**
 * A job's output in a notebook, shown live whether or not its kernel still has the widget.
 *
 * The kernel's widgets put `application/vnd.meshprogress.job+json` (kind, id, state) in their outputs next to
 * the ipywidgets view and the static rendering. This renderer, preferred over ipywidgets' own, shows the
 * kernel's widget when the page has its model, and otherwise (the notebook reopened after a kernel restart,
 * or the model not arrived yet) the same view on a model of its own that follows the hub by itself: never
 * "Error displaying widget: model not found". When a notebook is saved, the job outputs' static renderings
 * are rewritten from the newest states the page saw (`saveOutputs`).
 */

import type { DOMWidgetModel, DOMWidgetView } from '@jupyter-widgets/base';
import type { IRenderMime } from '@jupyterlab/rendermime-interfaces';
import type { Message } from '@lumino/messaging';
import { PanelLayout, Widget } from '@lumino/widgets';

import { batchPatch, meshPatch } from './logic';
import { showAllJobOutputs } from './outputcap';
import { Rewrite, RewriteBudget } from './savebudget';
import { jobState, liveModel, whenLive } from './registry';
import { JobKind, snapshotHtml, summaryText, TERMINAL } from './snapshot';
import { BatchProgressModel, BatchProgressView, ProgressModel, ProgressView } from './widget';

export const JOB_MIME = 'application/vnd.meshprogress.job+json';
const WIDGET_MIME = 'application/vnd.jupyter.widget-view+json';
/** Ahead of ipywidgets' renderer (rank -10), which would say "model not found" for a kernel that is gone. */
export const JOB_RANK = -20;

interface Job {
  kind: JobKind;
  id: number;
  state: unknown;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The job an output names, or null (untrusted JSON: a notebook from anywhere). */
export function readJob(value: unknown): Job | null {
  if (!isObject(value) || (value.kind !== 'mesh' && value.kind !== 'batch')) {
    return null;
  }
  const id = value.id;
  if (typeof id !== 'number' || !Number.isInteger(id) || id <= 0) {
    return null;
  }
  return { kind: value.kind, id, state: value.state };
}

/** The attributes of a model of this job: its id, plus the saved state when it is valid. */
function jobAttributes(job: Job, state: unknown): Record<string, unknown> {
  const applied = { id: job.id, version: 0 };
  const patch = job.kind === 'mesh' ? meshPatch(applied, state) : batchPatch(applied, state);
  return { ...(patch ?? {}), [job.kind === 'mesh' ? 'mesh_id' : 'batch_id']: job.id };
}

let standaloneCount = 0;

/** A model and view of the job with no kernel behind them: the view follows the hub's cable itself. */
function standaloneView(job: Job, state: unknown): DOMWidgetView {
  const options = { model_id: `meshprogress-saved-${++standaloneCount}`, widget_manager: null };
  const attributes = jobAttributes(job, state);
  const model: DOMWidgetModel =
    job.kind === 'mesh'
      ? new ProgressModel(attributes, options)
      : new BatchProgressModel(attributes, options);
  const view: DOMWidgetView =
    job.kind === 'mesh' ? new ProgressView({ model }) : new BatchProgressView({ model });
  void view.render();
  return view;
}

export class JobOutput extends Widget implements IRenderMime.IRenderer {
  private key = '';
  private view: DOMWidgetView | null = null;
  private stopWaiting: (() => void) | null = null;

  constructor() {
    super();
    this.addClass('mp-JobOutput');
    this.layout = new PanelLayout();
  }

  async renderModel(model: IRenderMime.IMimeModel): Promise<void> {
    const job = readJob(model.data[JOB_MIME]);
    const widgetData = model.data[WIDGET_MIME];
    const modelId =
      isObject(widgetData) && typeof widgetData.model_id === 'string' ? widgetData.model_id : null;
    const key = JSON.stringify([job?.kind, job?.id, modelId]);
    if (key === this.key) {
      return; // the same output again (its static rendering was rewritten): the view stays
    }
    this.key = key;
    this.stopWaiting?.();
    this.stopWaiting = null;
    if (job === null) {
      this.setView(null);
      return;
    }
    const live = modelId === null ? undefined : liveModel(modelId);
    if (live !== undefined) {
      await this.showLive(live, job, key);
      return;
    }
    this.setView(standaloneView(job, jobState(job.kind, job.id) ?? job.state));
    if (modelId !== null) {
      // The kernel's model may still come (created a moment after this output, or restored after a reload).
      this.stopWaiting = whenLive(modelId, found => void this.showLive(found, job, key));
    }
  }

  dispose(): void {
    this.stopWaiting?.();
    this.setView(null);
    super.dispose();
  }

  protected onAfterAttach(msg: Message): void {
    super.onAfterAttach(msg);
    showAllJobOutputs(this);
  }

  private async showLive(model: DOMWidgetModel, job: Job, key: string): Promise<void> {
    this.stopWaiting?.();
    this.stopWaiting = null;
    const view = (await model.widget_manager.create_view(model)) as DOMWidgetView;
    if (this.isDisposed || this.key !== key) {
      view.remove();
      return;
    }
    this.setView(view);
    // The kernel closed the widget (or the page dropped its models): keep showing the job, on our own.
    model.once('destroy', () => {
      if (this.view === view && !this.isDisposed) {
        this.setView(standaloneView(job, { ...model.attributes }));
      }
    });
  }

  private setView(view: DOMWidgetView | null): void {
    const old = this.view;
    this.view = view;
    if (view !== null) {
      (this.layout as PanelLayout).addWidget(view.luminoWidget);
    }
    if (old !== null) {
      old.remove();
      old.luminoWidget.dispose();
    }
  }
}

export const jobOutputFactory: IRenderMime.IRendererFactory = {
  // Safe: the view writes worker text with textContent only and acts on clicks alone.
  safe: true,
  mimeTypes: [JOB_MIME],
  createRenderer: () => new JobOutput()
};

/** The parts of JupyterLab's notebook model read here (typed locally: no dependency on @jupyterlab/notebook). */
interface OutputsModel {
  readonly length: number;
  get(index: number): { toJSON(): Record<string, unknown>; data: Record<string, unknown> };
  set(index: number, value: Record<string, unknown>): void;
}
interface NotebookModelLike {
  cells: Iterable<{ type: string; outputs?: OutputsModel }>;
}

/** Each notebook's turn over its outputs' budgeted rewrites. */
const budgets = new WeakMap<NotebookModelLike, RewriteBudget>();

/**
 * Rewrite the static rendering of job outputs from the newest state the page saw, at save time, so the file says
 * where each job was. An output whose job ended since it was saved (completed, failed, cancelled) is always
 * rewritten; one whose job only moved on (started, progressed) within a time budget, in turn over successive
 * saves. Outputs whose saved state is as new are left alone.
 */
export function saveOutputs(notebook: NotebookModelLike): void {
  const started = performance.now();
  const urgent: Rewrite[] = [];
  const moved: Rewrite[] = [];
  for (const cell of notebook.cells) {
    const outputs = cell.type === 'code' ? cell.outputs : undefined;
    for (let index = 0; outputs !== undefined && index < outputs.length; index++) {
      const output = outputs.get(index);
      const job = readJob(output.data[JOB_MIME]);
      const seen = job === null ? undefined : jobState(job.kind, job.id);
      if (job === null || seen === undefined) {
        continue;
      }
      const saved = isObject(job.state) ? job.state : {};
      const applied = { id: job.id, version: Number(saved.version) || 0 };
      const fields = job.kind === 'mesh' ? meshPatch(applied, seen) : batchPatch(applied, seen);
      if (fields === null) {
        continue; // nothing newer than what the file holds
      }
      const at = index;
      const rewrite = (): void => {
        const json = output.toJSON();
        outputs.set(at, {
          ...json,
          data: {
            ...(json.data as Record<string, unknown>),
            'text/plain': summaryText(job.kind, fields),
            'text/html': snapshotHtml(job.kind, fields),
            [JOB_MIME]: { kind: job.kind, id: job.id, state: fields }
          }
        });
      };
      const ended = fields.status !== saved.status && TERMINAL.includes(fields.status);
      (ended ? urgent : moved).push(rewrite);
    }
  }
  let budget = budgets.get(notebook);
  if (budget === undefined) {
    budget = new RewriteBudget();
    budgets.set(notebook, budget);
  }
  budget.run(started, urgent, moved);
}
