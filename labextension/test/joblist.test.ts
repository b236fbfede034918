/**
 * Unit tests of the sidebar's job list (src/joblist.ts): what REST lists add, the order and limits of the
 * rows, version-checked live updates, and the Cancel/Retry rules shared with the widgets.
 */

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { JobList, jobKey, rowLabel } from '../src/joblist';

function mesh(id: number, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id,
    mesh_id: id,
    status: 'pending',
    progress: 0,
    message: '',
    updated_at: '2026-11-29T00:41:03.120Z',
    created_at: `2026-11-29T00:${String(10 + (id % 50)).padStart(2, '0')}:00.000Z`,
    estimated_remaining: null,
    version: 1,
    name: `m${id}.png`,
    batch_id: null,
    result_url: null,
    ...overrides
  };
}

function batch(id: number, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id,
    batch_id: id,
    total: 1000,
    completed: 10,
    failed: 1,
    cancelled: 0,
    processing: 2,
    pending: 987,
    progress: 1.2,
    status: 'processing',
    estimated_remaining: 90,
    updated_at: '2026-11-29T00:41:03.120Z',
    created_at: '2026-11-29T00:30:00.000Z',
    version: 5,
    name: 'run-1',
    mesh_ids: [],
    ...overrides
  };
}

describe('JobList', () => {
  it('lists standalone meshes and batches, not the meshes of a batch', () => {
    const list = new JobList();
    list.load(
      { meshes: [mesh(1), mesh(2, { batch_id: 3 }), 'junk', { id: 'x' }] },
      { batches: [batch(3)] }
    );
    const { active, recent } = list.rows('/');
    assert.deepEqual(
      active.map(r => r.key),
      ['batch:3', 'mesh:1'],
      'newest first'
    );
    assert.deepEqual(recent, []);
    assert.equal(list.has('mesh', 2), false);
    const row = active[0];
    assert.equal(row.title, 'run-1');
    assert.equal(row.countsText, '10 completed, 1 failed of 1000');
    assert.deepEqual(
      row.counts,
      { total: 1000, completed: 10, failed: 1, cancelled: 0, processing: 2, pending: 987 },
      'a batch row carries its counts, for its member list'
    );
    assert.equal(list.rows('/').active[1].counts, null, 'a mesh row has none');
    assert.equal(row.etaText, 'Est. 1m 30s remaining');
  });

  it('survives failed requests (null lists)', () => {
    const list = new JobList();
    list.load(null, null);
    assert.deepEqual(list.rows('/'), { active: [], recent: [], more: false });
  });

  it('orders active rows before finished ones, newest first, each capped', () => {
    const list = new JobList(2, 1);
    list.load(
      {
        meshes: [
          mesh(1),
          mesh(2),
          mesh(3),
          mesh(4, { status: 'completed', version: 3 }),
          mesh(5, { status: 'failed', version: 3 })
        ]
      },
      null
    );
    const { active, recent } = list.rows('/');
    assert.deepEqual(
      active.map(r => r.id),
      [3, 2]
    );
    assert.deepEqual(
      recent.map(r => r.id),
      [5]
    );
  });

  it('applies newer payloads of known rows only', () => {
    const list = new JobList();
    list.load({ meshes: [mesh(7)] }, null);
    assert.equal(
      list.apply('mesh', {
        ...mesh(7),
        id: undefined,
        status: 'processing',
        progress: 30,
        version: 2
      }),
      true
    );
    assert.equal(
      list.apply('mesh', { ...mesh(7), status: 'pending', version: 2 }),
      false,
      'same version'
    );
    assert.equal(list.apply('mesh', { ...mesh(8), version: 9 }), false, 'unknown row');
    assert.equal(list.apply('batch', { ...mesh(7), version: 9 }), false, 'wrong kind');
    const row = list.rows('/').active[0];
    assert.equal(row.percentText, '30%');
    assert.equal(row.status, 'processing');
    // A later REST list with an older version does not roll the row back.
    list.load({ meshes: [mesh(7)] }, null);
    assert.equal(list.rows('/').active[0].status, 'processing');
  });

  it('offers Cancel while pending or processing and Retry once failed or cancelled', () => {
    const list = new JobList();
    list.load(
      {
        meshes: [
          mesh(1),
          mesh(2, { status: 'processing' }),
          mesh(3, { status: 'failed' }),
          mesh(4, { status: 'cancelled' }),
          mesh(5, { status: 'completed', result_url: '/meshprogress/api/v1/meshes/5/result' })
        ]
      },
      null
    );
    const { active, recent } = list.rows('/user/alice/');
    const byId = new Map([...active, ...recent].map(r => [r.id, r]));
    assert.deepEqual(
      [1, 2, 3, 4, 5].map(id => [byId.get(id)?.canCancel, byId.get(id)?.canRetry]),
      [
        [true, false],
        [true, false],
        [false, true],
        [false, true],
        [false, false]
      ]
    );
    assert.equal(byId.get(5)?.resultHref, '/user/alice/meshprogress/api/v1/meshes/5/result');
  });

  it('keeps worker text as plain text for textContent', () => {
    const list = new JobList();
    const text = '<img src=x onerror="window.__xss=1">';
    list.load({ meshes: [mesh(1, { status: 'processing', message: text })] }, null);
    assert.equal(list.rows('/').active[0].statusText, `Processing: ${text}`);
  });

  it('names rows by kind and id', () => {
    assert.equal(jobKey('batch', 3), 'batch:3');
  });
});

describe('rowLabel', () => {
  it('tells jobs of one name apart by id and start time', () => {
    assert.equal(rowLabel('mesh', 12, ''), 'Mesh 12');
    assert.equal(rowLabel('batch', 3, 'junk'), 'Batch 3');
    const label = rowLabel('mesh', 12, '2026-12-02T00:14:00Z', 'en-GB');
    assert.match(label, /^Mesh 12 · .*2026.*\d\d:\d\d$/);
  });
});

describe('JobList paging', () => {
  it('shows 20 finished rows, then more, then asks for older pages until the last', () => {
    const done = (id: number): Record<string, unknown> => ({
      ...mesh(id),
      status: 'completed',
      version: 5
    });
    const list = new JobList();
    list.load(
      { meshes: Array.from({ length: 25 }, (_, i) => done(100 - i)), next_before: 76 },
      { batches: [], next_before: null }
    );
    let rows = list.rows('/');
    assert.equal(rows.recent.length, 20);
    assert.equal(rows.more, true);
    assert.deepEqual(list.older(), { meshes: 76, batches: null });
    list.showMore();
    list.loadOlder({ meshes: [done(75), done(74)], next_before: null }, undefined);
    rows = list.rows('/');
    assert.equal(rows.recent.length, 27);
    assert.equal(rows.more, false);
    assert.equal(list.older(), null);
    list.load({ meshes: [done(100)], next_before: 99 }, { batches: [] });
    assert.equal(list.older(), null, 'a reload of the first page does not bring the cursor back');
  });
});
