/**
 * The sidebar's list of the user's jobs, free of DOM imports so it runs under Node's test runner.
 *
 * REST lists (`GET meshes`, `GET batches`) say which jobs exist; cable payloads and action answers keep the
 * shown rows current, each version-checked like the widgets (`meshPatch`/`batchPatch`). Meshes that belong to
 * a batch are shown through their batch's row, so a batch of 1,000 is one row.
 */

import {
  batchPatch,
  BatchState,
  batchView,
  meshPatch,
  MeshState,
  meshView,
  ProgressDisplay
} from './logic';
import type { MemberCounts } from './members';

export type JobKind = 'mesh' | 'batch';

/** Active rows shown at most (pending or processing), newest first. */
export const ACTIVE_LIMIT = 50;
/** Finished rows shown at most, newest first. */
export const RECENT_LIMIT = 20;

const ACTIVE: readonly string[] = ['pending', 'processing'];

interface Entry {
  kind: JobKind;
  id: number;
  /** `created_at` of the REST record: the list's order (ISO strings sort as times). */
  created: string;
  mesh: MeshState | null;
  batch: BatchState | null;
}

/** What the sidebar writes for one row; every field is plain text, a number or a flag. */
export interface JobRowView extends ProgressDisplay {
  key: string;
  kind: JobKind;
  id: number;
  title: string;
  /** A batch's counts (`4/10 done · 1 failed`); empty for a mesh. */
  countsText: string;
  /** A completed mesh's result link (already made safe), else null. */
  resultHref: string | null;
  /** `created_at` of the REST record (ISO 8601), or empty: when the job started. */
  created: string;
  /** A batch's member counts by status; null for a mesh. */
  counts: MemberCounts | null;
}

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function recordId(record: Json, idKey: string): number | null {
  const id = record.id ?? record[idKey];
  return typeof id === 'number' && Number.isInteger(id) && id > 0 ? id : null;
}

function listOf(body: unknown, field: string): Json[] {
  if (!isObject(body) || !Array.isArray(body[field])) {
    return [];
  }
  return (body[field] as unknown[]).filter(isObject);
}

/** The key of a row: `mesh:7`, `batch:3`. */
export function jobKey(kind: JobKind, id: number): string {
  return `${kind}:${id}`;
}

/** Where the next older page of each REST list starts (`next_before`); null once the list is exhausted. */
export interface Cursors {
  meshes: number | null;
  batches: number | null;
}

function cursorOf(body: unknown): number | null {
  const next = isObject(body) ? body.next_before : null;
  return typeof next === 'number' && Number.isInteger(next) && next > 0 ? next : null;
}

export class JobList {
  private readonly entries = new Map<string, Entry>();
  /** Unknown until the first page is loaded. */
  private cursors: Cursors | null = null;

  constructor(
    private readonly activeLimit = ACTIVE_LIMIT,
    private recentLimit = RECENT_LIMIT
  ) {}

  /** Where the next older pages start, or null when there are none (or none loaded yet). */
  older(): Cursors | null {
    const cursors = this.cursors;
    return cursors !== null && (cursors.meshes !== null || cursors.batches !== null)
      ? cursors
      : null;
  }

  /** Fold in older pages (answers to `before=` requests); a list not asked for is passed as undefined. */
  loadOlder(meshes: unknown, batches: unknown): void {
    this.load(meshes ?? null, batches ?? null);
    const cursors = this.cursors ?? { meshes: null, batches: null };
    this.cursors = {
      meshes: meshes === undefined ? cursors.meshes : cursorOf(meshes),
      batches: batches === undefined ? cursors.batches : cursorOf(batches)
    };
  }

  /** Show `count` more finished rows. */
  showMore(count = RECENT_LIMIT): void {
    this.recentLimit += count;
  }

  /**
   * Fold in the REST answers `{"meshes": [...]}` and `{"batches": [...]}` (either may be null when its
   * request failed). Known rows keep any newer state they already have; rows missing from a list stay (the
   * lists hold only the newest jobs).
   */
  load(meshes: unknown, batches: unknown): void {
    for (const record of listOf(meshes, 'meshes')) {
      if (record.batch_id === null || record.batch_id === undefined) {
        this.add('mesh', record);
      }
    }
    for (const record of listOf(batches, 'batches')) {
      this.add('batch', record);
    }
    if (this.cursors === null && meshes !== null && batches !== null) {
      // The first pages say where older ones start; later reloads of the first pages change nothing.
      this.cursors = { meshes: cursorOf(meshes), batches: cursorOf(batches) };
    }
  }

  has(kind: JobKind, id: number): boolean {
    return this.entries.has(jobKey(kind, id));
  }

  /** A cable payload or REST record of a known row; true when it changed the row. */
  apply(kind: JobKind, payload: unknown): boolean {
    if (!isObject(payload)) {
      return false;
    }
    const id = recordId(payload, kind === 'mesh' ? 'mesh_id' : 'batch_id');
    const entry = id === null ? undefined : this.entries.get(jobKey(kind, id));
    if (entry === undefined || id === null) {
      return false;
    }
    if (kind === 'mesh') {
      const patch = meshPatch({ id, version: entry.mesh?.version ?? 0 }, payload);
      if (patch === null) {
        return false;
      }
      entry.mesh = patch;
    } else {
      const patch = batchPatch({ id, version: entry.batch?.version ?? 0 }, payload);
      if (patch === null) {
        return false;
      }
      entry.batch = patch;
    }
    return true;
  }

  /** The rows to show: active ones, then recently finished ones, each newest first and capped. */
  rows(basePath: string): { active: JobRowView[]; recent: JobRowView[]; more: boolean } {
    const sorted = Array.from(this.entries.values()).sort((a, b) =>
      a.created < b.created ? 1 : a.created > b.created ? -1 : b.id - a.id
    );
    const active: JobRowView[] = [];
    const recent: JobRowView[] = [];
    let hidden = 0;
    for (const entry of sorted) {
      const view = rowView(entry, basePath);
      if (ACTIVE.includes(view.status)) {
        if (active.length < this.activeLimit) {
          active.push(view);
        }
      } else if (recent.length < this.recentLimit) {
        recent.push(view);
      } else {
        hidden++;
      }
    }
    return { active, recent, more: hidden > 0 || this.older() !== null };
  }

  private add(kind: JobKind, record: Json): void {
    const id = recordId(record, kind === 'mesh' ? 'mesh_id' : 'batch_id');
    if (id === null) {
      return;
    }
    const key = jobKey(kind, id);
    if (!this.entries.has(key)) {
      const created = typeof record.created_at === 'string' ? record.created_at : '';
      this.entries.set(key, { kind, id, created, mesh: null, batch: null });
    }
    this.apply(kind, record);
  }
}

function rowView(entry: Entry, basePath: string): JobRowView {
  const key = jobKey(entry.kind, entry.id);
  if (entry.kind === 'mesh') {
    const state: MeshState = entry.mesh ?? {
      mesh_id: entry.id,
      name: '',
      status: '',
      progress: 0,
      message: '',
      estimated_remaining: null,
      result_url: null,
      updated_at: null,
      batch_id: null,
      version: 0
    };
    return {
      ...meshView(state, basePath),
      key,
      kind: 'mesh',
      id: entry.id,
      countsText: '',
      created: entry.created,
      counts: null
    };
  }
  const state: BatchState = entry.batch ?? {
    batch_id: entry.id,
    name: '',
    status: '',
    progress: 0,
    estimated_remaining: null,
    updated_at: null,
    version: 0,
    total: 0,
    completed: 0,
    failed: 0,
    cancelled: 0,
    processing: 0,
    pending: 0
  };
  return {
    ...batchView(state),
    key,
    kind: 'batch',
    id: entry.id,
    resultHref: null,
    created: entry.created,
    counts: {
      total: state.total,
      completed: state.completed,
      failed: state.failed,
      cancelled: state.cancelled,
      processing: state.processing,
      pending: state.pending
    }
  };
}

/** `Mesh 12 · 2 Dec 2026, 00:14`: what tells two jobs of the same name apart (kind, id, start time). */
export function rowLabel(kind: JobKind, id: number, created: string, locale?: string): string {
  const label = `${kind === 'batch' ? 'Batch' : 'Mesh'} ${id}`;
  const time = created === '' ? NaN : Date.parse(created);
  if (Number.isNaN(time)) {
    return label;
  }
  const when = new Date(time).toLocaleString(locale, {
    day: 'numeric',
    month: 'short',
    year: 'numeric',
    hour: '2-digit',
    minute: '2-digit'
  });
  return `${label} · ${when}`;
}
