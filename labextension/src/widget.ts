/**
 * The models and views of `ProgressWidget` and `BatchProgressWidget`.
 *
 * Each view subscribes to the hub's cable itself, so updates render while the kernel is busy. An accepted
 * payload is set on the model and saved, which mirrors it to Python (`w.progress`, `w.status`) and to any
 * other view of the same model; the version check makes a payload seen by two views apply once. Drawing
 * reads the model only, once per animation frame, and writes text with `textContent` (worker messages are
 * untrusted).
 */

import {
  DOMWidgetModel,
  DOMWidgetView,
  IBackboneModelOptions,
  ISerializers
} from '@jupyter-widgets/base';
import type * as Backbone from 'backbone';

import { basePath, getBatch, listMeshes, postAction } from './api';
import { ChannelWatcher, sharedCable } from './cable';
import { MessageDetails } from './details';
import { drawProgress, element, ProgressParts, setAttribute, setText } from './dom';
import {
  batchMemberIds,
  batchPatch,
  BatchState,
  batchView,
  meshPatch,
  MeshState,
  meshView,
  ProgressDisplay,
  resultHref,
  statusLabel
} from './logic';
import { setAndSync } from './kernelsync';
import { BatchMembers, virtualWindow } from './members';
import {
  createMemberFailure,
  createMemberRow,
  drawMemberFailure,
  drawMemberRow,
  MemberRow,
  onMemberPicked
} from './memberrow';
import { announceJob } from './notices';
import { PreviewPanel } from './preview';
import { noteJob, noteLiveModel } from './registry';
import { ViewportScheduler } from './visibility';
import { MODULE_NAME, MODULE_VERSION } from './version';

/** Members of a batch mirrored to Python's `meshes` at most (the list in the page shows them all). */
export const SYNCED_MEMBERS = 100;
/** Least time between two syncs of a batch's per-mesh list to Python, in milliseconds. */
const MEMBER_SYNC_MS = 500;
/** Least time between two REST look-ups of a large batch's failed and processing members, in milliseconds. */
const DISCOVERY_MS = 1000;
/** Height of one member row in pixels (style/base.css), for the virtual list. */
const MEMBER_ROW_PX = 22;
/** Rows drawn above and below the visible ones. */
const MEMBER_OVERSCAN = 6;

const COMMON_DEFAULTS = {
  _model_module: MODULE_NAME,
  _model_module_version: MODULE_VERSION,
  _view_module: MODULE_NAME,
  _view_module_version: MODULE_VERSION,
  name: '',
  status: '',
  progress: 0,
  estimated_remaining: null,
  updated_at: null,
  version: 0,
  connected: false,
  error: ''
};

export class ProgressModel extends DOMWidgetModel {
  defaults(): Record<string, unknown> {
    return {
      ...super.defaults(),
      ...COMMON_DEFAULTS,
      _model_name: ProgressModel.model_name,
      _view_name: ProgressModel.view_name,
      mesh_id: null,
      message: '',
      result_url: null,
      batch_id: null
    };
  }

  initialize(attributes: Backbone.ObjectHash, options: IBackboneModelOptions): void {
    super.initialize(attributes, options);
    noteLiveModel(this);
  }

  static serializers: ISerializers = { ...DOMWidgetModel.serializers };
  static model_name = 'ProgressModel';
  static model_module = MODULE_NAME;
  static model_module_version = MODULE_VERSION;
  static view_name = 'ProgressView';
  static view_module = MODULE_NAME;
  static view_module_version = MODULE_VERSION;
}

export class BatchProgressModel extends DOMWidgetModel {
  defaults(): Record<string, unknown> {
    return {
      ...super.defaults(),
      ...COMMON_DEFAULTS,
      _model_name: BatchProgressModel.model_name,
      _view_name: BatchProgressModel.view_name,
      batch_id: null,
      total: 0,
      completed: 0,
      failed: 0,
      cancelled: 0,
      processing: 0,
      pending: 0,
      meshes: []
    };
  }

  initialize(attributes: Backbone.ObjectHash, options: IBackboneModelOptions): void {
    super.initialize(attributes, options);
    noteLiveModel(this);
  }

  static serializers: ISerializers = { ...DOMWidgetModel.serializers };
  static model_name = 'BatchProgressModel';
  static model_module = MODULE_NAME;
  static model_module_version = MODULE_VERSION;
  static view_name = 'BatchProgressView';
  static view_module = MODULE_NAME;
  static view_module_version = MODULE_VERSION;
}

interface Parts extends ProgressParts {
  dot: HTMLElement;
  actions: HTMLElement;
  error: HTMLElement;
  announce: HTMLElement;
}

/** What the mesh and batch views share: the skeleton, the subscription life cycle, drawing, actions. */
abstract class HubView<V extends ProgressDisplay & { title: string }> extends DOMWidgetView {
  protected parts!: Parts;
  /** Draws once per animation frame, and not at all while the widget is out of view. */
  protected readonly frame = new ViewportScheduler(this.el, () => this.draw());
  private stopWatching: Array<() => void> = [];
  private busy = false;
  private drawnState = '';
  private drawnStatus = '';

  /** The trait holding the subscribed id, the REST collection and the cable channel. */
  protected abstract readonly idKey: 'mesh_id' | 'batch_id';
  protected abstract readonly restCollection: 'meshes' | 'batches';
  protected abstract readonly channel: string;

  /** Apply a payload or REST record to the model if it is newer; true when it was. */
  protected abstract apply(payload: unknown): boolean;
  protected abstract viewState(): V;

  render(): void {
    // No ipywidgets "disconnected" mark: the view follows the hub, not the kernel, so it stays live after a
    // kernel restart; its own dot is the one connection indicator (the cable's).
    this.stopListening(this.model, 'comm_live_update');
    this.luminoWidget.removeClass('jupyter-widgets-disconnected');
    this.el.classList.add('mp-Progress');
    const header = element(this.el, 'div', 'mp-Progress-header');
    const title = element(header, 'span', 'mp-Progress-title');
    const dot = element(header, 'span', 'mp-Progress-dot', { role: 'img' });
    const bar = element(this.el, 'div', 'mp-Progress-track', {
      role: 'progressbar',
      'aria-valuemin': '0',
      'aria-valuemax': '100',
      'aria-valuenow': '0'
    });
    const fill = element(bar, 'div', 'mp-Progress-fill');
    const info = element(this.el, 'div', 'mp-Progress-info');
    const percent = element(info, 'span', 'mp-Progress-percent');
    const status = element(info, 'span', 'mp-Progress-status');
    const eta = element(info, 'span', 'mp-Progress-eta');
    const actions = element(this.el, 'div', 'mp-Progress-actions');
    const cancel = element(actions, 'button', 'mp-Progress-button mp-Progress-cancel', {
      type: 'button'
    });
    cancel.textContent = 'Cancel';
    const retry = element(actions, 'button', 'mp-Progress-button mp-Progress-retry', {
      type: 'button'
    });
    retry.textContent = 'Retry';
    const error = element(this.el, 'div', 'mp-Progress-error');
    // Status changes only (not every message), so screen readers are not flooded.
    const announce = element(this.el, 'span', 'mp-Progress-announce', {
      role: 'status',
      'aria-live': 'polite'
    });
    this.parts = {
      title,
      dot,
      bar,
      fill,
      percent,
      status,
      eta,
      cancel,
      retry,
      actions,
      error,
      announce
    };
    this.renderExtra();

    cancel.addEventListener('click', () => void this.act('cancel'));
    retry.addEventListener('click', () => void this.act('retry'));
    this.listenTo(this.model, 'change', () => this.frame.schedule());
    this.listenTo(this.model, `change:${this.idKey}`, () => this.restart());
    this.start();
    this.frame.schedule();
  }

  remove(): void {
    this.stop();
    this.frame.dispose();
    super.remove();
  }

  /** Extra elements of a subclass, created once after the common skeleton. */
  protected renderExtra(): void {
    // Nothing by default.
  }

  /** Extra DOM writes of a subclass, inside the frame. */
  protected drawExtra(_view: V): void {
    // Nothing by default.
  }

  protected subjectId(): number | null {
    const id = this.model.get(this.idKey);
    return typeof id === 'number' ? id : null;
  }

  /** Watch a channel until the view stops or its id changes. */
  protected watch(
    params: { channel: string; [key: string]: unknown },
    watcher: ChannelWatcher
  ): void {
    this.stopWatching.push(sharedCable().watch(params, watcher));
  }

  /** Set attributes and mirror them to the kernel, throttled (at once when the status changes). */
  protected save(attributes: Record<string, unknown>): void {
    const urgent = 'status' in attributes && attributes.status !== this.model.get('status');
    setAndSync(this.model, attributes, urgent);
  }

  protected start(): void {
    const id = this.subjectId();
    if (id === null) {
      return;
    }
    announceJob(this.idKey === 'mesh_id' ? 'mesh' : 'batch', id);
    noteJob(this.idKey === 'mesh_id' ? 'mesh' : 'batch', id, this.model);
    this.watch(
      { channel: this.channel, [this.idKey]: id },
      {
        received: payload => {
          this.apply(payload);
        },
        connected: () => this.save({ connected: true }),
        disconnected: willReconnect =>
          this.save(
            willReconnect
              ? { connected: false }
              : { connected: false, error: 'The hub closed the connection' }
          ),
        rejected: () =>
          this.save({
            connected: false,
            error: `No ${this.idKey.replace('_id', '')} ${id}, or not yours to watch`
          })
      }
    );
  }

  protected stop(): void {
    for (const stop of this.stopWatching.splice(0)) {
      stop();
    }
  }

  /** The id changed (from Python): forget the old stream's state and watch the new one. */
  protected restart(): void {
    this.stop();
    this.save({ ...this.resetState(), connected: false, error: '' });
    this.start();
  }

  /** The attributes of a view that has seen no payload of its id yet. */
  protected resetState(): Record<string, unknown> {
    return {
      version: 0,
      status: '',
      progress: 0,
      estimated_remaining: null,
      updated_at: null,
      name: ''
    };
  }

  private async act(action: 'cancel' | 'retry'): Promise<void> {
    const id = this.subjectId();
    if (id === null || this.busy) {
      return;
    }
    this.busy = true;
    this.save({ error: '' });
    this.frame.schedule();
    const result = await postAction(this.restCollection, id, action);
    this.busy = false;
    if (result.ok) {
      this.apply(result.record);
    } else {
      this.save({ error: result.error });
    }
    this.frame.schedule();
  }

  private draw(): void {
    const view = this.viewState();
    const { parts } = this;
    if (view.stateClass !== this.drawnState) {
      if (this.drawnState) {
        this.el.classList.remove(this.drawnState);
      }
      this.el.classList.add(view.stateClass);
      this.drawnState = view.stateClass;
      this.el.dataset.status = view.status || 'unknown';
    }
    const connected = this.model.get('connected') === true;
    this.el.classList.toggle('mp-mod-connected', connected);
    setAttribute(parts.dot, 'aria-label', connected ? 'Live' : 'Disconnected');
    setAttribute(
      parts.dot,
      'title',
      connected ? 'Live updates connected' : 'Disconnected from the hub'
    );

    drawProgress(parts, view, this.busy);
    const error = String(this.model.get('error') ?? '');
    setText(parts.error, error);
    parts.error.hidden = error === '';
    // Announce changes, not the first status a view learns.
    if (this.drawnStatus && view.status && this.drawnStatus !== view.status) {
      setText(parts.announce, `${view.title}: ${statusLabel(view.status)}`);
    }
    this.drawnStatus = view.status;
    this.drawExtra(view);
  }
}

export class ProgressView extends HubView<ReturnType<typeof meshView>> {
  protected readonly idKey = 'mesh_id';
  protected readonly restCollection = 'meshes';
  protected readonly channel = 'MeshProgressChannel';
  private result!: HTMLAnchorElement;
  private preview!: PreviewPanel;
  private details!: MessageDetails;
  private readonly serverPath = basePath();

  protected renderExtra(): void {
    this.result = element(this.parts.actions, 'a', 'mp-Progress-button mp-Progress-result', {
      download: ''
    });
    this.result.textContent = 'Download result';
    const info = this.parts.status.parentElement as HTMLElement;
    this.details = new MessageDetails(info, this.el, this.parts.actions);
    info.insertBefore(this.details.toggle, this.parts.eta);
    this.preview = new PreviewPanel(this.el);
  }

  remove(): void {
    this.preview.dispose();
    super.remove();
  }

  protected apply(payload: unknown): boolean {
    const patch = meshPatch(
      { id: this.subjectId(), version: Number(this.model.get('version')) || 0 },
      payload
    );
    if (patch === null) {
      return false;
    }
    this.save({ ...patch });
    return true;
  }

  protected resetState(): Record<string, unknown> {
    return { ...super.resetState(), message: '', result_url: null, batch_id: null };
  }

  protected viewState(): ReturnType<typeof meshView> {
    return meshView(this.model.attributes as unknown as MeshState, this.serverPath);
  }

  protected drawExtra(view: ReturnType<typeof meshView>): void {
    this.details.draw(view.fullMessage, view.title);
    const href = view.resultHref;
    if (href === null) {
      this.result.hidden = true;
      this.result.removeAttribute('href');
    } else {
      this.result.hidden = false;
      setAttribute(this.result, 'href', href);
    }
    // The widget's own title and result button say what the panel's would.
    this.preview.show(
      href === null ? null : this.subjectId(),
      String(this.model.get('version')),
      '',
      null
    );
  }
}

function setHeight(node: HTMLElement, px: number): void {
  const height = `${px}px`;
  if (node.style.height !== height) {
    node.style.height = height;
  }
  node.hidden = px === 0;
}

export class BatchProgressView extends HubView<ReturnType<typeof batchView>> {
  protected readonly idKey = 'batch_id';
  protected readonly restCollection = 'batches';
  protected readonly channel = 'BatchProgressChannel';
  private readonly members = new BatchMembers();
  private readonly memberWatches = new Map<number, () => void>();
  private counts!: HTMLElement;
  private list!: HTMLElement;
  private more!: HTMLElement;
  /** Row elements of the virtual list, reused for whichever members are in view. */
  private slots: MemberRow[] = [];
  /** Stand-ins for the rows above and below those in view. */
  private spacers!: [HTMLElement, HTMLElement];
  private generation = 0;
  private syncTimer: number | null = null;
  private lastSync = 0;
  private watchSyncQueued = false;
  private discovering = false;
  private discoverAgain = false;
  private lastDiscovery = 0;
  private preview!: PreviewPanel;
  /** The whole message of a picked failed member (its row shows only the start). */
  private failure!: HTMLElement;
  /** The member whose result the panel shows (picked by a click on its row). */
  private selected: number | null = null;
  private readonly serverPath = basePath();

  protected renderExtra(): void {
    this.counts = element(this.el, 'div', 'mp-Progress-counts');
    this.el.insertBefore(this.counts, this.parts.actions);
    this.list = element(this.el, 'ul', 'mp-Progress-members', {
      'aria-label': 'Meshes in this batch'
    });
    this.spacers = [
      element(this.list, 'li', 'mp-Progress-memberSpacer', { 'aria-hidden': 'true' }),
      element(this.list, 'li', 'mp-Progress-memberSpacer', { 'aria-hidden': 'true' })
    ];
    this.list.addEventListener('scroll', () => this.frame.schedule(), { passive: true });
    this.more = element(this.el, 'div', 'mp-Progress-more');
    this.failure = createMemberFailure(this.el);
    this.preview = new PreviewPanel(this.el);
    onMemberPicked(this.list, meshId => {
      this.selected = meshId;
      this.frame.schedule();
    });
  }

  remove(): void {
    this.preview.dispose();
    super.remove();
  }

  protected apply(payload: unknown): boolean {
    const patch = batchPatch(
      { id: this.subjectId(), version: Number(this.model.get('version')) || 0 },
      payload
    );
    if (patch === null) {
      return false;
    }
    this.save({ ...patch });
    if (this.members.stale(patch)) {
      void this.discover(this.generation);
    }
    return true;
  }

  protected resetState(): Record<string, unknown> {
    return {
      ...super.resetState(),
      total: 0,
      completed: 0,
      failed: 0,
      cancelled: 0,
      processing: 0,
      pending: 0,
      meshes: []
    };
  }

  protected start(): void {
    const generation = ++this.generation;
    this.members.reset([]);
    super.start();
    const id = this.subjectId();
    if (id !== null) {
      void this.loadMembers(id, generation);
    }
  }

  protected stop(): void {
    super.stop();
    this.generation++;
    for (const stop of this.memberWatches.values()) {
      stop();
    }
    this.memberWatches.clear();
    if (this.syncTimer !== null) {
      window.clearTimeout(this.syncTimer);
      this.syncTimer = null;
    }
  }

  /** Fetch the member ids, then watch members (or, for a large batch, find those needing attention). */
  private async loadMembers(id: number, generation: number): Promise<void> {
    const result = await getBatch(id);
    if (generation !== this.generation) {
      return;
    }
    if (!result.ok) {
      this.save({ error: result.error });
      return;
    }
    this.members.reset(batchMemberIds(result.record));
    // A newer batch payload checks the members itself; an older one leaves it to here.
    if (
      !this.apply(result.record) &&
      this.members.stale(this.model.attributes as unknown as BatchState)
    ) {
      void this.discover(generation);
    }
    this.syncWatches();
    this.memberChanged();
  }

  /**
   * Look up a large batch's failed and processing members (the batch's members in those statuses, which
   * readers and admins may list too); at most one look-up at a time and one per `DISCOVERY_MS`, and one more
   * if asked meanwhile.
   */
  private async discover(generation: number): Promise<void> {
    if (this.discovering) {
      this.discoverAgain = true;
      return;
    }
    this.discovering = true;
    try {
      const wait = this.lastDiscovery + DISCOVERY_MS - Date.now();
      if (wait > 0) {
        await new Promise(resolve => window.setTimeout(resolve, wait));
      }
      this.lastDiscovery = Date.now();
      const statuses = ['failed', 'processing'];
      const batchId = this.subjectId();
      if (batchId === null) {
        return;
      }
      const answers = await Promise.all(statuses.map(status => listMeshes(status, batchId)));
      if (generation !== this.generation) {
        return;
      }
      const records: unknown[] = [];
      for (const answer of answers) {
        const body = answer.ok ? (answer.record as { meshes?: unknown }) : null;
        if (body !== null && Array.isArray(body.meshes)) {
          records.push(...body.meshes);
        }
      }
      if (
        answers.every(answer => answer.ok) &&
        this.members.discover(records, statuses, new Set(this.memberWatches.keys()))
      ) {
        this.memberChanged();
      }
      this.syncWatches();
    } finally {
      this.discovering = false;
    }
    if (this.discoverAgain && generation === this.generation) {
      this.discoverAgain = false;
      void this.discover(generation);
    }
  }

  /** Watch exactly the members `BatchMembers` asks for. */
  private syncWatches(): void {
    const wanted = new Set(this.members.watchIds());
    for (const [meshId, stop] of this.memberWatches) {
      if (!wanted.has(meshId)) {
        stop();
        this.memberWatches.delete(meshId);
      }
    }
    for (const meshId of wanted) {
      if (!this.memberWatches.has(meshId)) {
        this.memberWatches.set(
          meshId,
          sharedCable().watch(
            { channel: 'MeshProgressChannel', mesh_id: meshId },
            {
              received: payload => {
                if (this.members.apply(payload)) {
                  this.memberChanged();
                }
              },
              connected: () => undefined,
              disconnected: () => undefined,
              rejected: () => undefined
            }
          )
        );
      }
    }
  }

  private memberChanged(): void {
    this.frame.schedule();
    if (this.members.large && !this.watchSyncQueued) {
      // A large batch's finished members are released; after the payload that finished them is handled.
      this.watchSyncQueued = true;
      queueMicrotask(() => {
        this.watchSyncQueued = false;
        this.syncWatches();
      });
    }
    if (this.syncTimer === null) {
      const wait = Math.max(0, this.lastSync + MEMBER_SYNC_MS - Date.now());
      this.syncTimer = window.setTimeout(() => {
        this.syncTimer = null;
        this.lastSync = Date.now();
        const rows = this.members.view(this.model.attributes as unknown as BatchState).rows;
        this.save({ meshes: rows.slice(0, SYNCED_MEMBERS) });
      }, wait);
    }
  }

  protected viewState(): ReturnType<typeof batchView> {
    return batchView(this.model.attributes as unknown as BatchState);
  }

  protected drawExtra(view: ReturnType<typeof batchView>): void {
    setText(this.counts, view.countsText);
    const { rows, restText } = this.members.view(this.model.attributes as unknown as BatchState);
    this.list.hidden = rows.length === 0;
    setText(this.more, restText);
    this.more.hidden = restText === '';
    const picked = rows.find(row => row.mesh_id === this.selected && row.status === 'completed');
    drawMemberFailure(this.failure, rows, this.selected);
    this.preview.show(
      picked ? picked.mesh_id : null,
      'completed',
      picked ? picked.name || `Mesh ${picked.mesh_id}` : '',
      picked ? resultHref(picked.result_url ?? null, this.serverPath) : null
    );
    if (rows.length === 0) {
      return;
    }
    // A virtual list: only the rows in view (plus a margin) exist; two spacers stand in for the others.
    // Layout is read before anything is written, so a frame costs one layout.
    const { first, last } = virtualWindow(
      this.list.scrollTop,
      this.list.clientHeight,
      rows.length,
      MEMBER_ROW_PX,
      MEMBER_OVERSCAN
    );
    setHeight(this.spacers[0], first * MEMBER_ROW_PX);
    setHeight(this.spacers[1], (rows.length - last) * MEMBER_ROW_PX);
    while (this.slots.length < last - first) {
      this.slots.push(createMemberRow(this.list, this.spacers[1]));
    }
    this.slots.forEach((slot, index) => {
      const entry = rows[first + index];
      slot.item.hidden = entry === undefined || first + index >= last;
      if (!slot.item.hidden && entry !== undefined) {
        drawMemberRow(slot, entry, this.serverPath, this.selected);
      }
    });
  }
}
