/**
 * The widgets' update logic, free of DOM, Lumino and Jupyter imports so it runs under Node's test runner.
 *
 * Cable payloads (see docs/api.md) arrive as untrusted JSON: `meshPatch`/`batchPatch` validate them, drop
 * stale ones (a `version` not greater than the last applied) and return the model attributes to set.
 * `meshView`/`batchView` turn model attributes into what the view writes to the DOM, so the views only
 * copy strings and flags into elements.
 */

/** The statuses of docs/api.md; `''` means no payload has arrived yet. */
export type Status = 'pending' | 'processing' | 'completed' | 'failed' | 'cancelled';

const STATUSES: readonly string[] = ['pending', 'processing', 'completed', 'failed', 'cancelled'];
const ACTIVE: readonly string[] = ['pending', 'processing'];
const RETRYABLE: readonly string[] = ['failed', 'cancelled'];

const STATUS_LABELS: Record<string, string> = {
  '': 'Connecting…',
  pending: 'Queued',
  processing: 'Processing',
  completed: 'Completed',
  failed: 'Failed',
  cancelled: 'Cancelled'
};

/** Model attributes of one mesh, as synced with the Python `ProgressWidget`. */
export interface MeshState {
  mesh_id: number | null;
  name: string;
  status: string;
  progress: number;
  message: string;
  estimated_remaining: number | null;
  result_url: string | null;
  updated_at: string | null;
  batch_id: number | null;
  version: number;
}

/** Model attributes of one batch, as synced with the Python `BatchProgressWidget`. */
export interface BatchState {
  batch_id: number | null;
  name: string;
  status: string;
  progress: number;
  estimated_remaining: number | null;
  updated_at: string | null;
  version: number;
  total: number;
  completed: number;
  failed: number;
  cancelled: number;
  processing: number;
  pending: number;
}

/** One row of a batch's compact per-mesh list (the `meshes` trait). */
export interface MeshEntry {
  mesh_id: number;
  name: string;
  status: string;
  progress: number;
  message: string;
  /** Where a completed member's result downloads from (absent in rows Python sent). */
  result_url?: string | null;
}

/** Where a payload is checked against: the subscribed id and the last applied version. */
export interface Applied {
  id: number | null;
  version: number;
}

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function finite(value: unknown): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

function text(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

function optionalText(value: unknown): string | null {
  return typeof value === 'string' && value !== '' ? value : null;
}

function optionalId(value: unknown): number | null {
  const n = finite(value);
  return n !== null && Number.isInteger(n) ? n : null;
}

function count(value: unknown): number {
  const n = finite(value);
  return n !== null && n > 0 ? Math.floor(n) : 0;
}

/** Progress clamped to 0..100; anything that is not a finite number counts as 0. */
export function clampProgress(value: unknown): number {
  const n = finite(value);
  if (n === null) {
    return 0;
  }
  return Math.min(100, Math.max(0, n));
}

function remaining(value: unknown): number | null {
  const n = finite(value);
  return n !== null && n >= 0 ? Math.round(n) : null;
}

function status(value: unknown): string {
  return typeof value === 'string' && STATUSES.includes(value) ? value : '';
}

/**
 * The version a payload carries if it should be applied, else null.
 *
 * The id must be the one subscribed (a payload of a previous subscription can still be in flight after the
 * id changed) and the version must be greater than the last applied: versions only grow, across attempts.
 */
function acceptedVersion(payload: Json, idKey: string, applied: Applied): number | null {
  const version = finite(payload.version);
  const id = optionalId(payload[idKey] ?? payload.id);
  if (version === null || id === null || id !== applied.id || version <= applied.version) {
    return null;
  }
  if (status(payload.status) === '') {
    return null;
  }
  return version;
}

/** The mesh attributes to set for a cable payload or REST mesh record, or null to drop it. */
export function meshPatch(applied: Applied, payload: unknown): MeshState | null {
  if (!isObject(payload)) {
    return null;
  }
  const version = acceptedVersion(payload, 'mesh_id', applied);
  if (version === null) {
    return null;
  }
  return {
    mesh_id: applied.id,
    name: text(payload.name),
    status: status(payload.status),
    progress: clampProgress(payload.progress),
    message: text(payload.message),
    estimated_remaining: remaining(payload.estimated_remaining),
    result_url: optionalText(payload.result_url),
    updated_at: optionalText(payload.updated_at),
    batch_id: optionalId(payload.batch_id),
    version
  };
}

/** The batch attributes to set for a cable payload or REST batch record, or null to drop it. */
export function batchPatch(applied: Applied, payload: unknown): BatchState | null {
  if (!isObject(payload)) {
    return null;
  }
  const version = acceptedVersion(payload, 'batch_id', applied);
  if (version === null) {
    return null;
  }
  return {
    batch_id: applied.id,
    name: text(payload.name),
    status: status(payload.status),
    progress: clampProgress(payload.progress),
    estimated_remaining: remaining(payload.estimated_remaining),
    updated_at: optionalText(payload.updated_at),
    version,
    total: count(payload.total),
    completed: count(payload.completed),
    failed: count(payload.failed),
    cancelled: count(payload.cancelled),
    processing: count(payload.processing),
    pending: count(payload.pending)
  };
}

/** The member ids of a REST batch record (`mesh_ids`, or the `meshes` records answered on create). */
export function batchMemberIds(record: unknown): number[] {
  if (!isObject(record)) {
    return [];
  }
  const raw = Array.isArray(record.mesh_ids)
    ? record.mesh_ids
    : Array.isArray(record.meshes)
      ? record.meshes.map(m => (isObject(m) ? (m.mesh_id ?? m.id) : null))
      : [];
  const ids = raw.map(optionalId).filter((id): id is number => id !== null);
  return Array.from(new Set(ids));
}

/** Whole seconds as `45s`, `1m 5s` or `2h 3m`; empty when unknown (null, negative, not finite). */
export function formatEta(seconds: number | null | undefined): string {
  if (typeof seconds !== 'number' || !Number.isFinite(seconds) || seconds < 0) {
    return '';
  }
  const total = Math.round(seconds);
  if (total < 60) {
    return `${total}s`;
  }
  if (total < 3600) {
    return `${Math.floor(total / 60)}m ${total % 60}s`;
  }
  return `${Math.floor(total / 3600)}h ${Math.floor((total % 3600) / 60)}m`;
}

/** `Est. 1m 5s remaining`, or empty when the estimate is unknown. */
export function remainingText(seconds: number | null | undefined): string {
  const eta = formatEta(seconds);
  return eta === '' ? '' : `Est. ${eta} remaining`;
}

/** Percent with at most one decimal: `42%`, `42.5%`; clamped to 0..100. */
export function formatPercent(progress: unknown): string {
  const rounded = Math.round(clampProgress(progress) * 10) / 10;
  return Number.isInteger(rounded) ? `${rounded}%` : `${rounded.toFixed(1)}%`;
}

/** Human label of a status (`''` is the state before the first payload). */
export function statusLabel(value: string): string {
  return STATUS_LABELS[value] ?? value;
}

/**
 * A safe href for a worker-supplied `result_url`, or null.
 *
 * Only http(s) and relative URLs are links (a `javascript:` URL from a worker must never be clickable).
 * A root-relative URL such as `/meshprogress/...` is relative to the Jupyter server root, so it is placed
 * under `basePath` (e.g. `/user/alice/`) unless it is already there.
 */
export function resultHref(url: string | null | undefined, basePath: string): string | null {
  if (typeof url !== 'string') {
    return null;
  }
  const href = url.trim();
  // Browsers drop control characters and read backslashes as slashes, which would hide a scheme or host.
  // eslint-disable-next-line no-control-regex -- matching control characters is the point
  if (href === '' || /[\u0000-\u0020\u007f\\]/.test(href)) {
    return null;
  }
  const scheme = /^([a-zA-Z][a-zA-Z0-9+.-]*):/.exec(href);
  if (scheme !== null) {
    return ['http', 'https'].includes(scheme[1].toLowerCase()) ? href : null;
  }
  if (href.startsWith('//')) {
    return href;
  }
  const base = basePath.endsWith('/') ? basePath : `${basePath}/`;
  if (href.startsWith('/')) {
    return href.startsWith(base) ? href : base + href.slice(1);
  }
  return base + href;
}

/** The cable URL under the server's WebSocket base URL, with the page's token when it has one. */
export function cableUrl(wsBaseUrl: string, token: string): string {
  const base = wsBaseUrl.endsWith('/') ? wsBaseUrl : `${wsBaseUrl}/`;
  const url = `${base}meshprogress/cable`;
  return token ? `${url}?token=${encodeURIComponent(token)}` : url;
}

/** The REST path (relative to the base URL) of an action on a mesh or a batch. */
export function actionPath(
  kind: 'meshes' | 'batches',
  id: number,
  action: 'cancel' | 'retry'
): string {
  return `meshprogress/api/v1/${kind}/${encodeURIComponent(String(id))}/${action}`;
}

/** The message to show for a failed REST call: the hub's `{"error": ...}` or the HTTP status. */
export function errorMessage(httpStatus: number, body: unknown): string {
  if (isObject(body) && typeof body.error === 'string' && body.error !== '') {
    return body.error;
  }
  return `Request failed (HTTP ${httpStatus})`;
}

/** What a view writes to the DOM; every field is plain text or a flag. */
export interface ProgressDisplay {
  status: string;
  stateClass: string;
  percent: number;
  percentText: string;
  statusText: string;
  etaText: string;
  canCancel: boolean;
  canRetry: boolean;
}

function progressView(
  state: { status: string; progress: number; estimated_remaining: number | null },
  detail: string
): ProgressDisplay {
  const percent = state.status === 'completed' ? 100 : clampProgress(state.progress);
  const label = statusLabel(state.status);
  return {
    status: state.status,
    stateClass: `mp-mod-${state.status || 'unknown'}`,
    percent,
    percentText: formatPercent(percent),
    statusText: detail ? `${label}: ${detail}` : label,
    etaText: state.status === 'processing' ? remainingText(state.estimated_remaining) : '',
    canCancel: ACTIVE.includes(state.status),
    canRetry: RETRYABLE.includes(state.status)
  };
}

/** Characters of a message shown in a status line; a longer one is cut there, its whole text one click away. */
export const SHORT_MESSAGE = 120;

/**
 * A message as a status line shows it: its first line, at most `SHORT_MESSAGE` characters, and whether that
 * left anything out (a worker's message may hold up to 2,000 characters over several lines).
 */
export function shortMessage(message: string): { text: string; cut: boolean } {
  const trimmed = message.trim();
  const firstLine = trimmed.split('\n', 1)[0].trimEnd();
  if (firstLine.length <= SHORT_MESSAGE && firstLine === trimmed) {
    return { text: trimmed, cut: false };
  }
  const text =
    firstLine.length > SHORT_MESSAGE ? firstLine.slice(0, SHORT_MESSAGE - 1).trimEnd() : firstLine;
  return { text: `${text}…`, cut: true };
}

/** The mesh view's DOM state; `basePath` places root-relative result URLs. */
export function meshView(
  state: MeshState,
  basePath: string
): ProgressDisplay & {
  title: string;
  resultHref: string | null;
  /** The whole message when the status line shows only its start, else ''. */
  fullMessage: string;
} {
  const message = shortMessage(state.message);
  return {
    ...progressView(state, message.text),
    title: state.name || (state.mesh_id === null ? 'Mesh' : `Mesh ${state.mesh_id}`),
    resultHref: state.status === 'completed' ? resultHref(state.result_url, basePath) : null,
    fullMessage: message.cut ? state.message.trim() : ''
  };
}

/** `3 completed, 1 failed of 4`: a batch's ended members by outcome, out of all (text.py's `counts_text`). */
export function countsText(counts: {
  total: number;
  completed: number;
  failed: number;
  cancelled: number;
}): string {
  const parts = [`${counts.completed} completed`];
  if (counts.failed) {
    parts.push(`${counts.failed} failed`);
  }
  if (counts.cancelled) {
    parts.push(`${counts.cancelled} cancelled`);
  }
  return `${parts.join(', ')} of ${counts.total}`;
}

/**
 * The batch view's DOM state; retry applies once every member ended and some failed or were cancelled. An
 * ended batch reads as its outcome (`3 completed, 1 failed of 4`), not as `75% Failed`.
 */
export function batchView(
  state: BatchState
): ProgressDisplay & { title: string; countsText: string } {
  const view = progressView(state, '');
  const finished = state.completed + state.failed + state.cancelled;
  const ended = state.total > 0 && finished >= state.total;
  const terminal = !ACTIVE.includes(state.status) && state.status !== '';
  return {
    ...view,
    percentText: terminal ? '' : view.percentText,
    statusText: terminal ? '' : view.statusText,
    canRetry: ended && state.failed + state.cancelled > 0,
    title: state.name || (state.batch_id === null ? 'Batch' : `Batch ${state.batch_id}`),
    countsText: countsText(state)
  };
}
