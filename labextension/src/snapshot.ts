/**
 * The static rendering a saved notebook keeps of a job (`text/plain` and `text/html` of the output), written by
 * the browser from the last state it saw, so a notebook saved mid-run says where the job was, not where the
 * kernel first saw it. The same text and markup as the kernel's (meshprogress_nb/notebook/widgets/snapshot.py
 * and `summary()`), checked against tests/notebook/widgets/format_cases.json. Free of DOM imports.
 */

import {
  BatchState,
  countsText,
  formatPercent,
  MeshState,
  remainingText,
  statusLabel
} from './logic';

/** Longest title or status line kept, in characters (snapshot.py's `MAX_TEXT`). */
const MAX_TEXT = 200;
const COLOURS: Record<string, string> = {
  processing: '#1976d2',
  completed: '#388e3c',
  failed: '#d32f2f',
  cancelled: '#f57c00'
};
export const TERMINAL: readonly string[] = ['completed', 'failed', 'cancelled'];

export type JobKind = 'mesh' | 'batch';

const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#x27;'
};

/** Python's `html.escape`. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, c => ESCAPES[c]);
}

function short(text: string): string {
  const chars = Array.from(text);
  return chars.length <= MAX_TEXT ? text : `${chars.slice(0, MAX_TEXT - 1).join('')}…`;
}

/** Python's `f"{x:g}"` for a percent (six significant digits, no trailing zeros). */
function general(value: number): string {
  return String(Number(value.toPrecision(6)));
}

function title(kind: JobKind, state: MeshState | BatchState): string {
  const id = kind === 'mesh' ? (state as MeshState).mesh_id : (state as BatchState).batch_id;
  return state.name || `${kind === 'mesh' ? 'Mesh' : 'Batch'} ${id}`;
}

function detail(kind: JobKind, state: MeshState | BatchState): string {
  const label = statusLabel(state.status);
  const message = kind === 'mesh' ? (state as MeshState).message : '';
  return message ? `${label}: ${message}` : label;
}

function eta(state: MeshState | BatchState): string {
  return state.status === 'processing' ? remainingText(state.estimated_remaining) : '';
}

/** The output's `text/plain`: `Mesh 7: 42.5%, Processing, meshing, Est. 12s remaining`. */
export function summaryText(kind: JobKind, state: MeshState | BatchState): string {
  if (kind === 'batch' && TERMINAL.includes(state.status)) {
    return `${title(kind, state)}: ${countsText(state as BatchState)}`;
  }
  const parts = [formatPercent(state.progress), statusLabel(state.status)];
  const extra = kind === 'mesh' ? (state as MeshState).message : countsText(state as BatchState);
  if (extra) {
    parts.push(extra);
  }
  const remaining = eta(state);
  if (remaining) {
    parts.push(remaining);
  }
  return `${title(kind, state)}: ${parts.join(', ')}`;
}

/** The output's `text/html`: a native progress bar and a line or two of escaped text. */
export function snapshotHtml(kind: JobKind, state: MeshState | BatchState): string {
  const percent = state.status === 'completed' ? 100 : state.progress;
  let line = [formatPercent(percent), detail(kind, state)];
  const remaining = eta(state);
  if (remaining) {
    line.push(remaining);
  }
  const counts = kind === 'batch' ? countsText(state as BatchState) : '';
  if (counts && TERMINAL.includes(state.status)) {
    line = [];
  }
  const id = kind === 'mesh' ? (state as MeshState).mesh_id : (state as BatchState).batch_id;
  const colour = COLOURS[state.status] ?? '#9e9e9e';
  const parts = [
    `<div class="meshprogress-snapshot" data-status="${escapeHtml(state.status || 'unknown')}" ` +
      `data-${kind}-id="${id ?? ''}" ` +
      `style="max-width:640px;padding:4px 8px;border-left:4px solid ${colour}">`,
    `<strong>${escapeHtml(short(title(kind, state)))}</strong><br>`,
    `<progress max="100" value="${general(percent)}" style="width:100%">${escapeHtml(formatPercent(percent))}</progress><br>`
  ];
  if (line.length) {
    parts.push(`<span>${escapeHtml(short(line.join(' · ')))}</span>`);
  }
  if (counts) {
    parts.push(`${line.length ? '<br>' : ''}<span>${escapeHtml(counts)}</span>`);
  }
  parts.push('</div>');
  return parts.join('');
}
