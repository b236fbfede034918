/**
 * One member row of a batch (name, bar, percent, status, download link), as the batch widget and the sidebar
 * both draw it, and the pick of a row: a completed one opens its preview, a failed one shows why it failed.
 */

import { element, setAttribute, setText, setWidth } from './dom';
import { formatPercent, MeshEntry, resultHref, statusLabel } from './logic';

export interface MemberRow {
  item: HTMLLIElement;
  name: HTMLElement;
  status: HTMLElement;
  percent: HTMLElement;
  fill: HTMLElement;
  result: HTMLAnchorElement;
}

/** A new row, inserted into `list` before `before` (at the end when null). */
export function createMemberRow(list: HTMLElement, before: Element | null): MemberRow {
  const item = document.createElement('li');
  item.className = 'mp-Progress-member';
  list.insertBefore(item, before);
  const name = element(item, 'span', 'mp-Progress-memberName');
  const track = element(item, 'span', 'mp-Progress-memberTrack', { 'aria-hidden': 'true' });
  const fill = element(track, 'span', 'mp-Progress-memberFill');
  const percent = element(item, 'span', 'mp-Progress-memberPercent');
  const status = element(item, 'span', 'mp-Progress-memberStatus');
  const result = element(item, 'a', 'mp-Progress-memberResult', { download: '' });
  result.textContent = 'Download';
  return { item, name, status, percent, fill, result };
}

/** Write `entry` into `row`; only a completed member links its result, and only through `resultHref`. */
export function drawMemberRow(
  row: MemberRow,
  entry: MeshEntry,
  serverPath: string,
  selected: number | null
): void {
  const name = entry.name || `Mesh ${entry.mesh_id}`;
  const progress = entry.status === 'completed' ? 100 : entry.progress;
  const status =
    entry.message && entry.status === 'failed'
      ? `Failed: ${entry.message}`
      : statusLabel(entry.status);
  setText(row.name, name);
  setAttribute(row.name, 'title', name);
  setText(row.status, status);
  setAttribute(row.status, 'title', status);
  setText(row.percent, formatPercent(progress));
  setWidth(row.fill, progress);
  setAttribute(row.item, 'data-status', entry.status || 'unknown');
  setAttribute(row.item, 'data-mesh-id', String(entry.mesh_id));
  const href =
    entry.status === 'completed' ? resultHref(entry.result_url ?? null, serverPath) : null;
  row.result.hidden = href === null;
  if (href !== null) {
    setAttribute(row.result, 'href', href);
    setAttribute(row.result, 'aria-label', `Download the result of ${name}`);
  }
  const selectable = pickable(entry.status);
  setAttribute(row.item, 'tabindex', selectable ? '0' : '-1');
  setAttribute(row.item, 'aria-selected', String(selectable && entry.mesh_id === selected));
}

/** A completed member is picked to preview its result, a failed one to read why it failed. */
function pickable(status: string | undefined): boolean {
  return status === 'completed' || status === 'failed';
}

/** Call `pick` with the mesh id of a completed or failed row clicked (or Enter/Space on it), except on its link. */
export function onMemberPicked(list: HTMLElement, pick: (meshId: number) => void): void {
  const picked = (event: Event): void => {
    const target = event.target as HTMLElement;
    const row = target.closest<HTMLElement>('.mp-Progress-member');
    if (row && pickable(row.dataset.status) && !target.closest('a')) {
      pick(Number(row.dataset.meshId));
    }
  };
  list.addEventListener('click', picked);
  list.addEventListener('keydown', event => {
    if (event.key === 'Enter' || event.key === ' ') {
      picked(event);
    }
  });
}

/** The block showing a picked failed member's whole message (its row shows only the start), hidden till then. */
export function createMemberFailure(parent: HTMLElement): HTMLElement {
  const node = element(parent, 'div', 'mp-Progress-details mp-Progress-memberFailure', {
    role: 'region',
    'aria-label': 'Why the picked mesh failed'
  });
  node.hidden = true;
  return node;
}

export function drawMemberFailure(
  node: HTMLElement,
  rows: MeshEntry[],
  selected: number | null
): void {
  const failed = rows.find(row => row.mesh_id === selected && row.status === 'failed');
  const name = failed ? failed.name || `Mesh ${failed.mesh_id}` : '';
  setText(node, failed ? `${name} failed: ${failed.message.trim()}` : '');
  node.hidden = failed === undefined;
}
