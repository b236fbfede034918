/**
 * Unit tests of a batch's member list (src/members.ts): versions per member, the order (failed and
 * processing first), what a large batch watches and lists, and the line counting the rest.
 */

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { BatchMembers, MemberCounts, restText, virtualWindow } from '../src/members';

function mesh(
  id: number,
  version: number,
  status: string,
  overrides: Record<string, unknown> = {}
): Record<string, unknown> {
  return {
    mesh_id: id,
    status,
    progress: status === 'completed' ? 100 : 40,
    message: '',
    updated_at: null,
    estimated_remaining: null,
    version,
    name: `m${id}.png`,
    batch_id: 3,
    result_url: null,
    ...overrides
  };
}

function counts(overrides: Partial<MemberCounts>): MemberCounts {
  return {
    total: 0,
    completed: 0,
    failed: 0,
    cancelled: 0,
    processing: 0,
    pending: 0,
    ...overrides
  };
}

describe('BatchMembers of a small batch', () => {
  it('keeps one version per member', () => {
    const members = new BatchMembers();
    members.reset([7, 8]);
    assert.equal(members.apply(mesh(7, 9, 'processing')), true);
    assert.equal(members.apply(mesh(7, 9, 'processing')), false, 'same version again');
    assert.equal(members.apply(mesh(9, 100, 'processing')), false, 'not a member');
    assert.equal(
      members.apply({ ...mesh(8, 1, 'pending'), mesh_id: undefined, id: 8 }),
      true,
      'a REST record'
    );
    assert.equal(members.apply(mesh(7, 10, 'completed', { result_url: '/r/7' })), true);
    assert.equal(members.apply(mesh(7, 8, 'processing')), false, 'older than applied');
    assert.deepEqual(members.view(counts({ total: 2 })).rows, [
      {
        mesh_id: 7,
        name: 'm7.png',
        status: 'completed',
        progress: 100,
        message: '',
        result_url: '/r/7'
      },
      { mesh_id: 8, name: 'm8.png', status: 'pending', progress: 40, message: '', result_url: null }
    ]);
  });

  it('watches every member and lists failed, then processing, then the rest in batch order', () => {
    const members = new BatchMembers(5);
    members.reset([1, 2, 3, 4, 5]);
    assert.equal(members.large, false);
    assert.deepEqual(members.watchIds(), [1, 2, 3, 4, 5]);
    members.apply(mesh(1, 2, 'completed'));
    members.apply(mesh(2, 2, 'processing'));
    members.apply(mesh(4, 2, 'failed', { message: 'bad image' }));
    members.apply(mesh(5, 2, 'processing'));
    const { rows, restText: rest } = members.view(
      counts({ total: 5, completed: 1, processing: 2, failed: 1, pending: 1 })
    );
    assert.deepEqual(
      rows.map(r => r.mesh_id),
      [4, 2, 5, 1, 3]
    );
    assert.equal(rows[0].message, 'bad image');
    assert.equal(rest, '');
    assert.equal(
      members.stale(counts({ total: 5, processing: 9 })),
      false,
      'a small batch is always current'
    );
  });
});

describe('BatchMembers of a large batch', () => {
  const ids = Array.from({ length: 1000 }, (_, i) => i + 1);

  it('watches only processing members and lists only failed and processing ones', () => {
    const members = new BatchMembers(100);
    members.reset(ids);
    assert.equal(members.large, true);
    assert.deepEqual(members.watchIds(), []);
    members.apply(mesh(500, 3, 'processing'));
    members.apply(mesh(20, 3, 'failed', { message: 'boom' }));
    members.apply(mesh(30, 3, 'completed'));
    assert.deepEqual(members.watchIds(), [500]);
    const state = counts({ total: 1000, completed: 900, failed: 1, processing: 1, pending: 98 });
    const { rows, restText: rest } = members.view(state);
    assert.deepEqual(
      rows.map(r => [r.mesh_id, r.status]),
      [
        [20, 'failed'],
        [500, 'processing']
      ]
    );
    assert.equal(rest, 'and 998 more meshes: 98 pending, 900 completed');
  });

  it('watches at most its limit', () => {
    const members = new BatchMembers(10);
    members.reset(ids);
    for (const id of ids.slice(0, 50)) {
      members.apply(mesh(id, 2, 'processing'));
    }
    assert.deepEqual(members.watchIds(), ids.slice(0, 10));
  });

  it('is stale while the batch counts disagree with the known failed and processing members', () => {
    const members = new BatchMembers(100);
    members.reset(ids);
    assert.equal(members.stale(counts({ total: 1000, pending: 1000 })), false);
    assert.equal(members.stale(counts({ total: 1000, pending: 999, processing: 1 })), true);
    members.apply(mesh(1, 2, 'processing'));
    assert.equal(members.stale(counts({ total: 1000, pending: 999, processing: 1 })), false);
    assert.equal(members.stale(counts({ total: 1000, pending: 999, failed: 1 })), true);
  });

  it('discovers members from REST lists and forgets unwatched ones that left those statuses', () => {
    const members = new BatchMembers(100);
    members.reset(ids);
    members.apply(mesh(1, 2, 'processing'));
    members.apply(mesh(2, 2, 'processing'));
    const records = [
      mesh(3, 2, 'processing'),
      mesh(4, 5, 'failed'),
      { ...mesh(5000, 2, 'processing'), batch_id: 9 }
    ];
    assert.equal(members.discover(records, ['failed', 'processing'], new Set([2])), true);
    const rows = members.view(counts({ total: 1000, processing: 2, failed: 1 })).rows;
    // 1 left processing unseen (forgotten); 2 is watched, so its own channel is trusted; 5000 is another batch's.
    assert.deepEqual(
      rows.map(r => [r.mesh_id, r.status]),
      [
        [4, 'failed'],
        [2, 'processing'],
        [3, 'processing']
      ]
    );
    assert.equal(
      members.apply(mesh(1, 2, 'processing')),
      false,
      'a forgotten member keeps its version'
    );
    assert.equal(members.apply(mesh(1, 3, 'completed')), true);
  });
});

describe('restText', () => {
  it('counts the members not listed, by status', () => {
    const rows = [{ mesh_id: 1, name: '', status: 'failed', progress: 0, message: '' }];
    assert.equal(restText(counts({ total: 1, failed: 1 }), rows), '');
    assert.equal(
      restText(counts({ total: 3, failed: 2, completed: 1 }), rows),
      'and 2 more meshes: 1 failed, 1 completed'
    );
    assert.equal(
      restText(counts({ total: 2, failed: 1, cancelled: 1 }), rows),
      'and 1 more mesh: 1 cancelled'
    );
    assert.equal(restText(counts({ total: 2 }), rows), 'and 1 more mesh');
  });
});

describe('virtualWindow', () => {
  it('draws the rows in view plus a margin, never past the ends', () => {
    assert.deepEqual(virtualWindow(0, 154, 1000, 22, 6), { first: 0, last: 24 });
    assert.deepEqual(virtualWindow(22 * 500, 154, 1000, 22, 6), { first: 494, last: 518 });
    assert.deepEqual(virtualWindow(22 * 995, 154, 1000, 22, 6), { first: 989, last: 1000 });
    assert.deepEqual(
      virtualWindow(0, 0, 3, 22, 6),
      { first: 0, last: 3 },
      'a hidden list still draws its rows'
    );
    assert.deepEqual(
      virtualWindow(5000, 154, 3, 22, 6),
      { first: 2, last: 3 },
      'scrolled past a shrunk list'
    );
    assert.deepEqual(
      virtualWindow(0, 2200, 1000, 22, 6),
      { first: 0, last: 112 },
      'a tall viewport'
    );
  });
});
