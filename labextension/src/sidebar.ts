/**
 * The "Mesh jobs" sidebar panel: the user's active and recent meshes and batches, live, with Cancel/Retry.
 *
 * While the panel is visible it lists jobs from REST (at once, every `POLL_MS`, and when a widget on the page
 * shows a job it does not know) and watches each shown row's channel on the page's shared cable; hidden, it
 * watches nothing. Drawing happens once per animation frame and writes text with `textContent` only.
 */

import { LabIcon } from '@jupyterlab/ui-components';
import { Widget } from '@lumino/widgets';

import { basePath, listBatches, listMeshes, postAction } from './api';
import { sharedCable } from './cable';
import { drawProgress, element, FrameScheduler, ProgressParts, setAttribute, setText } from './dom';
import { JobKind, JobList, JobRowView, rowLabel } from './joblist';
import { onJobAnnounced } from './notices';
import { MemberPane } from './sidebarmembers';

/** How often a visible panel re-reads the job lists (new jobs from scripts or other notebooks). */
const POLL_MS = 10_000;
/** Records per REST page: the first pages are re-read every `POLL_MS`; older ones on "Show more". */
const PAGE = 50;

/** The element id of a batch row's member list (what its disclosure button controls). */
function membersId(key: string): string {
  return `mp-JobRow-members-${key.replace(':', '-')}`;
}

export const meshIcon = new LabIcon({
  name: 'meshprogress-nb:jobs',
  svgstr:
    '<svg xmlns="http://www.w3.org/2000/svg" width="16" height="16" viewBox="0 0 24 24">' +
    '<g class="jp-icon3" fill="#616161"><path d="M12 2 1.5 20.5h21L12 2zm0 4.1 3.6 6.4H8.4L12 6.1z' +
    'M7.3 14.5h4v4H4.9l2.4-4zm6.4 0h3l2.4 4h-5.4v-4z"/></g></svg>'
});

interface RowParts extends ProgressParts {
  item: HTMLLIElement;
  /** A batch row's disclosure button for its members; null on a mesh row. */
  expand: HTMLButtonElement | null;
  kind: HTMLElement;
  counts: HTMLElement;
  result: HTMLAnchorElement;
  error: HTMLElement;
}

export class JobsPanel extends Widget {
  private readonly jobs = new JobList();
  private readonly frame = new FrameScheduler(() => this.draw());
  private readonly serverPath = basePath();
  private readonly watches = new Map<string, () => void>();
  private readonly rows = new Map<string, RowParts>();
  /** The rows as last drawn, by key. */
  private readonly shown = new Map<string, JobRowView>();
  private readonly busy = new Set<string>();
  private readonly rowErrors = new Map<string, string>();
  /** The members of each expanded batch row, by row key. */
  private readonly expanded = new Map<string, MemberPane>();
  private readonly activeList: HTMLUListElement;
  private readonly recentList: HTMLUListElement;
  private readonly activeHeading: HTMLElement;
  private readonly recentHeading: HTMLElement;
  private readonly message: HTMLElement;
  private readonly moreButton: HTMLButtonElement;
  private pollTimer: number | null = null;
  private stopNotices: (() => void) | null = null;
  private loading: Promise<void> | null = null;
  private reloadAfter = false;
  private listError = '';
  private loaded = false;

  constructor() {
    super();
    this.id = 'meshprogress-jobs';
    this.addClass('mp-JobsPanel');
    this.title.icon = meshIcon;
    this.title.caption = 'Mesh jobs';
    const root = this.node;
    const header = element(root, 'div', 'mp-JobsPanel-header');
    element(header, 'h2', 'mp-JobsPanel-heading').textContent = 'Mesh jobs';
    const refresh = element(header, 'button', 'mp-JobsPanel-refresh', {
      type: 'button',
      title: 'Reload the job list'
    });
    refresh.textContent = 'Refresh';
    refresh.addEventListener('click', () => void this.reload());
    this.message = element(root, 'div', 'mp-JobsPanel-message', { role: 'status' });
    this.activeHeading = element(root, 'h3', 'mp-JobsPanel-section');
    this.activeHeading.textContent = 'Active';
    this.activeList = element(root, 'ul', 'mp-JobsPanel-list', { 'aria-label': 'Active jobs' });
    this.recentHeading = element(root, 'h3', 'mp-JobsPanel-section');
    this.recentHeading.textContent = 'Recent';
    this.recentList = element(root, 'ul', 'mp-JobsPanel-list', { 'aria-label': 'Recent jobs' });
    this.moreButton = element(root, 'button', 'mp-JobsPanel-more', { type: 'button' });
    this.moreButton.textContent = 'Show more';
    this.moreButton.addEventListener('click', () => void this.showMore());
  }

  /** Twenty more finished rows, reading the next older pages of the lists when there are some. */
  private async showMore(): Promise<void> {
    this.jobs.showMore();
    const older = this.jobs.older();
    if (older !== null) {
      this.moreButton.disabled = true;
      const [meshes, batches] = await Promise.all([
        older.meshes === null
          ? null
          : listMeshes(undefined, undefined, { limit: PAGE, before: older.meshes }),
        older.batches === null ? null : listBatches({ limit: PAGE, before: older.batches })
      ]);
      // A failed request keeps its cursor: the next click asks again.
      this.jobs.loadOlder(
        meshes?.ok ? meshes.record : undefined,
        batches?.ok ? batches.record : undefined
      );
      this.moreButton.disabled = false;
    }
    this.frame.schedule();
  }

  dispose(): void {
    if (this.isDisposed) {
      return;
    }
    this.stopLive();
    this.frame.cancel();
    super.dispose();
  }

  protected onAfterShow(): void {
    this.startLive();
  }

  protected onBeforeHide(): void {
    this.stopLive();
  }

  private startLive(): void {
    if (this.pollTimer !== null) {
      return;
    }
    this.pollTimer = window.setInterval(() => void this.reload(), POLL_MS);
    this.stopNotices = onJobAnnounced((kind, id) => {
      if (!this.jobs.has(kind, id)) {
        void this.reload();
      }
    });
    void this.reload();
  }

  private stopLive(): void {
    if (this.pollTimer !== null) {
      window.clearInterval(this.pollTimer);
      this.pollTimer = null;
    }
    this.stopNotices?.();
    this.stopNotices = null;
    for (const stop of this.watches.values()) {
      stop();
    }
    this.watches.clear();
  }

  /** Re-read both lists; a call during a load runs once more after it. */
  private reload(): Promise<void> {
    if (this.loading !== null) {
      this.reloadAfter = true;
      return this.loading;
    }
    this.loading = (async () => {
      const [meshes, batches] = await Promise.all([
        listMeshes(undefined, undefined, { limit: PAGE }),
        listBatches({ limit: PAGE })
      ]);
      this.jobs.load(meshes.ok ? meshes.record : null, batches.ok ? batches.record : null);
      const failed = !meshes.ok ? meshes : !batches.ok ? batches : null;
      this.listError = failed !== null && !failed.ok ? failed.error : '';
      this.loaded = true;
      this.frame.schedule();
    })().finally(() => {
      this.loading = null;
      if (this.reloadAfter) {
        this.reloadAfter = false;
        void this.reload();
      }
    });
    return this.loading;
  }

  /** Watch exactly the shown rows' channels, while the panel is live. */
  private syncWatches(shown: JobRowView[]): void {
    if (this.pollTimer === null) {
      return;
    }
    const wanted = new Map(shown.map(row => [row.key, row]));
    for (const [key, stop] of this.watches) {
      if (!wanted.has(key)) {
        stop();
        this.watches.delete(key);
      }
    }
    for (const [key, row] of wanted) {
      if (!this.watches.has(key)) {
        this.watches.set(key, this.watch(row.kind, row.id));
      }
    }
  }

  private watch(kind: JobKind, id: number): () => void {
    const params =
      kind === 'mesh'
        ? { channel: 'MeshProgressChannel', mesh_id: id }
        : { channel: 'BatchProgressChannel', batch_id: id };
    return sharedCable().watch(params, {
      received: payload => {
        if (this.jobs.apply(kind, payload)) {
          this.frame.schedule();
        }
      },
      connected: () => undefined,
      disconnected: () => undefined,
      rejected: () => undefined
    });
  }

  private clicked(key: string, action: 'cancel' | 'retry'): void {
    const row = this.shown.get(key);
    if (row !== undefined && (action === 'cancel' ? row.canCancel : row.canRetry)) {
      void this.act(row, action);
    }
  }

  private async act(row: JobRowView, action: 'cancel' | 'retry'): Promise<void> {
    if (this.busy.has(row.key)) {
      return;
    }
    this.busy.add(row.key);
    this.rowErrors.delete(row.key);
    this.frame.schedule();
    const result = await postAction(row.kind === 'mesh' ? 'meshes' : 'batches', row.id, action);
    this.busy.delete(row.key);
    if (result.ok) {
      this.jobs.apply(row.kind, result.record);
    } else {
      this.rowErrors.set(row.key, result.error);
    }
    this.frame.schedule();
  }

  private draw(): void {
    const { active, recent, more } = this.jobs.rows(this.serverPath);
    this.moreButton.hidden = !more;
    this.syncWatches([...active, ...recent]);
    const seen = new Set<string>();
    this.drawList(this.activeList, active, seen);
    this.drawList(this.recentList, recent, seen);
    for (const [key, parts] of this.rows) {
      if (!seen.has(key)) {
        parts.item.remove();
        this.expanded.get(key)?.dispose();
        this.expanded.delete(key);
        this.rows.delete(key);
        this.shown.delete(key);
      }
    }
    this.activeHeading.hidden = this.activeList.hidden = active.length === 0;
    this.recentHeading.hidden = this.recentList.hidden = recent.length === 0;
    const empty = this.loaded && active.length === 0 && recent.length === 0;
    setText(this.message, this.listError || (empty ? 'No mesh jobs yet.' : ''));
    this.message.classList.toggle('mp-mod-error', this.listError !== '');
    this.message.hidden = this.message.textContent === '';
  }

  private drawList(list: HTMLUListElement, views: JobRowView[], seen: Set<string>): void {
    views.forEach((view, index) => {
      seen.add(view.key);
      this.shown.set(view.key, view);
      let parts = this.rows.get(view.key);
      if (parts === undefined) {
        parts = this.createRow(view);
        this.rows.set(view.key, parts);
      }
      // Keep the DOM order without moving rows already in place.
      if (list.children[index] !== parts.item) {
        list.insertBefore(parts.item, list.children[index] ?? null);
      }
      this.drawRow(parts, view);
    });
  }

  private createRow(view: JobRowView): RowParts {
    const item = document.createElement('li');
    item.className = 'mp-JobRow';
    item.dataset.key = view.key;
    item.dataset.kind = view.kind;
    const header = element(item, 'div', 'mp-JobRow-header');
    const expand =
      view.kind === 'batch'
        ? element(header, 'button', 'mp-JobRow-expand', {
            type: 'button',
            'aria-expanded': 'false',
            'aria-controls': membersId(view.key)
          })
        : null;
    const title = element(header, 'span', 'mp-JobRow-title');
    const kind = element(header, 'span', 'mp-JobRow-kind');
    const bar = element(item, 'div', 'mp-JobRow-track', {
      role: 'progressbar',
      'aria-valuemin': '0',
      'aria-valuemax': '100',
      'aria-valuenow': '0'
    });
    const fill = element(bar, 'div', 'mp-JobRow-fill');
    const info = element(item, 'div', 'mp-JobRow-info');
    const percent = element(info, 'span', 'mp-JobRow-percent');
    const status = element(info, 'span', 'mp-JobRow-status');
    const eta = element(info, 'span', 'mp-JobRow-eta');
    const counts = element(item, 'div', 'mp-JobRow-counts');
    const actions = element(item, 'div', 'mp-JobRow-actions');
    const cancel = element(actions, 'button', 'mp-JobRow-button mp-JobRow-cancel', {
      type: 'button'
    });
    cancel.textContent = 'Cancel';
    const retry = element(actions, 'button', 'mp-JobRow-button mp-JobRow-retry', {
      type: 'button'
    });
    retry.textContent = 'Retry';
    const result = element(actions, 'a', 'mp-JobRow-result', {
      target: '_blank',
      rel: 'noopener noreferrer'
    });
    result.textContent = 'Open result';
    const error = element(item, 'div', 'mp-JobRow-error');
    // Act on the row as last drawn: the view captured here may be stale by the time of the click.
    cancel.addEventListener('click', () => this.clicked(view.key, 'cancel'));
    retry.addEventListener('click', () => this.clicked(view.key, 'retry'));
    expand?.addEventListener('click', () => this.toggle(view, item));
    return {
      item,
      expand,
      title,
      kind,
      bar,
      fill,
      percent,
      status,
      eta,
      counts,
      cancel,
      retry,
      result,
      error
    };
  }

  private drawRow(parts: RowParts, view: JobRowView): void {
    setAttribute(parts.item, 'data-status', view.status || 'unknown');
    drawProgress(parts, view, this.busy.has(view.key));
    setText(parts.kind, rowLabel(view.kind, view.id, view.created));
    setText(parts.counts, view.countsText);
    parts.counts.hidden = view.countsText === '';
    if (view.resultHref === null) {
      parts.result.hidden = true;
      parts.result.removeAttribute('href');
    } else {
      parts.result.hidden = false;
      setAttribute(parts.result, 'href', view.resultHref);
    }
    const error = this.rowErrors.get(view.key) ?? '';
    setText(parts.error, error);
    parts.error.hidden = error === '';
    if (parts.expand !== null) {
      const pane = this.expanded.get(view.key);
      setAttribute(parts.expand, 'aria-expanded', String(pane !== undefined));
      setAttribute(
        parts.expand,
        'aria-label',
        `${pane === undefined ? 'Show' : 'Hide'} the meshes of ${view.title || rowLabel(view.kind, view.id, '')}`
      );
      pane?.update(view.counts);
      pane?.draw();
    }
  }

  /** Show or hide a batch row's members; shown, they are read at once and whenever the batch's counts change. */
  private toggle(view: JobRowView, item: HTMLLIElement): void {
    const pane = this.expanded.get(view.key);
    if (pane === undefined) {
      const created = new MemberPane(membersId(view.key), view.id, this.serverPath, () =>
        this.frame.schedule()
      );
      item.insertBefore(created.node, item.querySelector('.mp-JobRow-error'));
      this.expanded.set(view.key, created);
    } else {
      pane.dispose();
      this.expanded.delete(view.key);
    }
    this.frame.schedule();
  }
}
