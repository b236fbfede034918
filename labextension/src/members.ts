/**
 * The members of a batch as the batch widget lists them, free of DOM imports so it runs under Node's test
 * runner.
 *
 * A small batch (up to `watchLimit` members) is watched whole: every member's own channel feeds its row.
 * A large one (a batch may hold thousands) is not: one page's cable may hold at most 1,000 subscriptions
 * (`c.MeshProgress.max_subscriptions`), and thousands of streams would flood it. There the list shows the
 * members that need attention (failed, then processing), found through the REST lists of failed and
 * processing meshes whenever the batch's counts say the known ones are out of date, and watches the
 * processing ones live; the batch's own counts describe everyone else in one line.
 */

import { BatchState, meshPatch, MeshEntry } from './logic';

/** Members watched on their own channels at most, per batch view. */
export const WATCH_LIMIT = 100;

/** The order of the list: what needs attention first, then the rest in batch order. */
const RANK: Record<string, number> = { failed: 0, processing: 1 };

type Json = Record<string, unknown>;

interface Row extends MeshEntry {
  position: number;
  version: number;
}

export type MemberCounts = Pick<
  BatchState,
  'total' | 'completed' | 'failed' | 'cancelled' | 'processing' | 'pending'
>;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function memberId(payload: Json): number | null {
  const id = payload.mesh_id ?? payload.id;
  return typeof id === 'number' && Number.isInteger(id) ? id : null;
}

export class BatchMembers {
  private readonly rows = new Map<number, Row>();

  constructor(readonly watchLimit = WATCH_LIMIT) {}

  /** Start (or restart) with these members, in batch order, all still unknown. */
  reset(ids: number[]): void {
    this.rows.clear();
    ids.forEach((id, position) => {
      this.rows.set(id, {
        mesh_id: id,
        name: '',
        status: '',
        progress: 0,
        message: '',
        result_url: null,
        position,
        version: 0
      });
    });
  }

  get size(): number {
    return this.rows.size;
  }

  /** Too many members to watch each one: only those needing attention are listed. */
  get large(): boolean {
    return this.rows.size > this.watchLimit;
  }

  /** Fold one member's mesh payload or REST record in; false when it is not a member's, or stale. */
  apply(payload: unknown): boolean {
    if (!isObject(payload)) {
      return false;
    }
    const id = memberId(payload);
    const row = id === null ? undefined : this.rows.get(id);
    if (row === undefined) {
      return false;
    }
    const patch = meshPatch({ id, version: row.version }, payload);
    if (patch === null) {
      return false;
    }
    row.version = patch.version;
    row.name = patch.name;
    row.status = patch.status;
    row.progress = patch.progress;
    row.message = patch.message;
    row.result_url = patch.result_url;
    return true;
  }

  /**
   * Fold in a REST list of the user's meshes in `statuses` (any batch's). A member believed to be in one of
   * those statuses but absent from the list has left it unseen; unless its channel is watched (then it is
   * current anyway) it goes back to unknown. Its version stays, so no older payload can bring it back.
   */
  discover(records: unknown[], statuses: readonly string[], watched: ReadonlySet<number>): boolean {
    let changed = false;
    const listed = new Set<number>();
    for (const record of records) {
      if (isObject(record)) {
        const id = memberId(record);
        if (id !== null && this.rows.has(id)) {
          listed.add(id);
          changed = this.apply(record) || changed;
        }
      }
    }
    for (const row of this.rows.values()) {
      if (statuses.includes(row.status) && !listed.has(row.mesh_id) && !watched.has(row.mesh_id)) {
        row.status = '';
        row.progress = 0;
        row.message = '';
        changed = true;
      }
    }
    return changed;
  }

  /** The members to watch on their own channels: all of a small batch; a large one's processing members. */
  watchIds(): number[] {
    if (!this.large) {
      return Array.from(this.rows.keys());
    }
    const ids: number[] = [];
    for (const row of this.rows.values()) {
      if (row.status === 'processing' && ids.length < this.watchLimit) {
        ids.push(row.mesh_id);
      }
    }
    return ids;
  }

  /** A large batch's counts disagree with the failed and processing members known here. */
  stale(counts: MemberCounts): boolean {
    if (!this.large) {
      return false;
    }
    let failed = 0;
    let processing = 0;
    for (const row of this.rows.values()) {
      failed += row.status === 'failed' ? 1 : 0;
      processing += row.status === 'processing' ? 1 : 0;
    }
    return failed !== counts.failed || processing !== counts.processing;
  }

  /**
   * The rows to list: failed, then processing, then (small batches only) the others in batch order; and a
   * line counting, by status, the members not listed.
   */
  view(counts: MemberCounts): { rows: MeshEntry[]; restText: string } {
    const listed = Array.from(this.rows.values()).filter(row => !this.large || row.status in RANK);
    listed.sort((a, b) => (RANK[a.status] ?? 2) - (RANK[b.status] ?? 2) || a.position - b.position);
    const rows = listed.map(({ mesh_id, name, status, progress, message, result_url }) => ({
      mesh_id,
      name,
      status,
      progress,
      message,
      result_url
    }));
    return { rows, restText: restText(counts, rows) };
  }
}

/** `and 950 more: 812 completed, 138 pending`, or empty when every member is listed. */
export function restText(counts: MemberCounts, rows: readonly MeshEntry[]): string {
  const rest = Math.max(0, counts.total - rows.length);
  if (rest === 0) {
    return '';
  }
  const listed: Record<string, number> = {};
  for (const row of rows) {
    listed[row.status] = (listed[row.status] ?? 0) + 1;
  }
  const parts: string[] = [];
  for (const status of ['processing', 'failed', 'pending', 'cancelled', 'completed'] as const) {
    const n = Math.max(0, counts[status] - (listed[status] ?? 0));
    if (n > 0) {
      parts.push(`${n} ${status}`);
    }
  }
  const noun = rest === 1 ? 'mesh' : 'meshes';
  return parts.length
    ? `and ${rest} more ${noun}: ${parts.join(', ')}`
    : `and ${rest} more ${noun}`;
}

/**
 * The rows of a virtual list to draw: those in the viewport plus `overscan` on each side, `[first, last)`.
 * At least `minimum` rows fit (a hidden list measures 0 pixels).
 */
export function virtualWindow(
  scrollTop: number,
  viewportPx: number,
  total: number,
  rowPx: number,
  overscan: number,
  minimum = 12
): { first: number; last: number } {
  const first = Math.min(
    Math.max(0, Math.floor(scrollTop / rowPx) - overscan),
    Math.max(0, total - 1)
  );
  const visible = Math.max(minimum, Math.ceil(viewportPx / rowPx));
  return { first, last: Math.min(total, first + visible + 2 * overscan) };
}
