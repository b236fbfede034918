/**
 * Unit tests of the widgets' pure update logic (src/logic.ts), run by `jlpm test` with Node's test runner.
 */

import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';

import {
  actionPath,
  batchMemberIds,
  batchPatch,
  batchView,
  BatchState,
  cableUrl,
  countsText,
  errorMessage,
  formatEta,
  formatPercent,
  meshPatch,
  MeshState,
  meshView,
  shortMessage,
  SHORT_MESSAGE,
  remainingText,
  resultHref
} from '../src/logic';
import { MODULE_NAME, MODULE_VERSION } from '../src/version';

// Run from labextension/ (jlpm test); the cases are shared with the Python formatting tests.
const CASES = join(process.cwd(), '..', 'tests', 'notebook', 'widgets', 'format_cases.json');

function meshPayload(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    mesh_id: 7,
    status: 'processing',
    progress: 42.5,
    message: 'meshing',
    updated_at: '2026-11-29T00:41:03.120Z',
    estimated_remaining: 12,
    version: 9,
    name: 'brain.png',
    batch_id: null,
    result_url: null,
    ...overrides
  };
}

function batchPayload(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    batch_id: 3,
    total: 10,
    completed: 4,
    failed: 1,
    cancelled: 0,
    processing: 2,
    pending: 3,
    progress: 51.2,
    status: 'processing',
    estimated_remaining: 30,
    updated_at: '2026-11-29T00:41:03.120Z',
    version: 17,
    name: 'run-1',
    ...overrides
  };
}

function meshState(overrides: Partial<MeshState> = {}): MeshState {
  const patch = meshPatch({ id: 7, version: 0 }, meshPayload());
  assert.ok(patch);
  return { ...patch, ...overrides };
}

describe(
  'formatting (shared cases with Python)',
  { skip: !existsSync(CASES) && 'tests/notebook/widgets/format_cases.json missing' },
  () => {
    const cases = existsSync(CASES)
      ? JSON.parse(readFileSync(CASES, 'utf8'))
      : { eta: [], remaining: [], percent: [], counts: [] };

    it('formats the ETA like the seed, with hours', () => {
      for (const [seconds, expected] of cases.eta) {
        assert.equal(formatEta(seconds), expected, `formatEta(${seconds})`);
      }
    });

    it('says "Est. ... remaining" only when known', () => {
      for (const [seconds, expected] of cases.remaining) {
        assert.equal(remainingText(seconds), expected, `remainingText(${seconds})`);
      }
    });

    it('formats the percent with at most one decimal', () => {
      for (const [progress, expected] of cases.percent) {
        assert.equal(formatPercent(progress), expected, `formatPercent(${progress})`);
      }
    });

    it("says a batch's counts as outcomes of all", () => {
      for (const [counts, expected] of cases.counts) {
        assert.equal(countsText(counts), expected, `countsText(${JSON.stringify(counts)})`);
      }
    });
  }
);

describe('meshPatch', () => {
  it('applies a newer payload of the subscribed mesh', () => {
    const patch = meshPatch({ id: 7, version: 8 }, meshPayload());
    assert.deepEqual(patch, {
      mesh_id: 7,
      name: 'brain.png',
      status: 'processing',
      progress: 42.5,
      message: 'meshing',
      estimated_remaining: 12,
      result_url: null,
      updated_at: '2026-11-29T00:41:03.120Z',
      batch_id: null,
      version: 9
    });
  });

  it('drops a payload whose version is not greater than the last applied', () => {
    assert.equal(meshPatch({ id: 7, version: 9 }, meshPayload()), null);
    assert.equal(meshPatch({ id: 7, version: 10 }, meshPayload()), null);
  });

  it('drops a payload of another mesh (a previous subscription still in flight)', () => {
    assert.equal(meshPatch({ id: 8, version: 0 }, meshPayload()), null);
    assert.equal(meshPatch({ id: null, version: 0 }, meshPayload()), null);
  });

  it('drops malformed payloads', () => {
    for (const bad of [
      null,
      'x',
      42,
      [],
      meshPayload({ version: '10' }),
      meshPayload({ version: undefined }),
      meshPayload({ status: 'exploded' }),
      meshPayload({ mesh_id: 'seven' })
    ]) {
      assert.equal(meshPatch({ id: 7, version: 0 }, bad), null, JSON.stringify(bad));
    }
  });

  it('accepts a REST mesh record (id as well as mesh_id)', () => {
    const record: Record<string, unknown> = {
      ...meshPayload({ status: 'cancelled', version: 12 }),
      id: 7,
      job_id: 'j'
    };
    assert.equal(meshPatch({ id: 7, version: 9 }, record)?.status, 'cancelled');
    delete record.mesh_id;
    assert.equal(meshPatch({ id: 7, version: 9 }, record)?.version, 12);
  });

  it('sanitises field types', () => {
    const patch = meshPatch(
      { id: 7, version: 0 },
      meshPayload({
        progress: 250,
        message: 5,
        estimated_remaining: -4,
        result_url: '',
        name: null
      })
    );
    assert.ok(patch);
    assert.equal(patch.progress, 100);
    assert.equal(patch.message, '');
    assert.equal(patch.estimated_remaining, null);
    assert.equal(patch.result_url, null);
    assert.equal(patch.name, '');
  });
});

describe('batchPatch and members', () => {
  it('applies a newer batch payload and drops stale ones', () => {
    const patch = batchPatch({ id: 3, version: 16 }, batchPayload());
    assert.ok(patch);
    assert.equal(patch.total, 10);
    assert.equal(patch.failed, 1);
    assert.equal(patch.progress, 51.2);
    assert.equal(batchPatch({ id: 3, version: 17 }, batchPayload()), null);
    assert.equal(batchPatch({ id: 4, version: 0 }, batchPayload()), null);
  });

  it('reads member ids from mesh_ids or meshes records', () => {
    assert.deepEqual(batchMemberIds({ mesh_ids: [5, 6, 6, 'x'] }), [5, 6]);
    assert.deepEqual(batchMemberIds({ meshes: [{ id: 1 }, { mesh_id: 2 }, null] }), [1, 2]);
    assert.deepEqual(batchMemberIds(null), []);
  });
});

describe('shortMessage', () => {
  it('keeps a one-line message whole', () => {
    assert.deepEqual(shortMessage('  No such file: scan.png '), {
      text: 'No such file: scan.png',
      cut: false
    });
  });

  it('cuts a long or multi-line message and says so', () => {
    const long = shortMessage('x'.repeat(2000));
    assert.equal(long.cut, true);
    assert.equal(long.text.length, SHORT_MESSAGE);
    assert.ok(long.text.endsWith('\u2026'));
    assert.deepEqual(shortMessage('out of memory\nwhile meshing label 3'), {
      text: 'out of memory\u2026',
      cut: true
    });
  });
});

describe('meshView', () => {
  it('shows the start of a long failure and keeps its whole text for the details', () => {
    const message = `Traceback line one ${'y'.repeat(300)}\nsecond line`;
    const view = meshView(meshState({ status: 'failed', message }), '/');
    assert.ok(view.statusText.startsWith('Failed: Traceback line one'));
    assert.ok(view.statusText.length < 140);
    assert.equal(view.fullMessage, message);
    assert.equal(meshView(meshState({ status: 'failed', message: 'short' }), '/').fullMessage, '');
  });

  it('shows progress, message and ETA while processing', () => {
    const view = meshView(meshState(), '/');
    assert.equal(view.percent, 42.5);
    assert.equal(view.percentText, '42.5%');
    assert.equal(view.statusText, 'Processing: meshing');
    assert.equal(view.etaText, 'Est. 12s remaining');
    assert.equal(view.stateClass, 'mp-mod-processing');
    assert.equal(view.canCancel, true);
    assert.equal(view.canRetry, false);
    assert.equal(view.title, 'brain.png');
    assert.equal(view.resultHref, null);
  });

  it('offers retry, not cancel, once failed or cancelled', () => {
    for (const status of ['failed', 'cancelled']) {
      const view = meshView(meshState({ status, estimated_remaining: 5 }), '/');
      assert.equal(view.canCancel, false);
      assert.equal(view.canRetry, true);
      assert.equal(view.etaText, '');
      assert.equal(view.stateClass, `mp-mod-${status}`);
    }
    const pending = meshView(meshState({ status: 'pending', message: '' }), '/');
    assert.equal(pending.canCancel, true);
    assert.equal(pending.statusText, 'Queued');
  });

  it('fills the bar and links the result when completed', () => {
    const view = meshView(
      meshState({
        status: 'completed',
        progress: 99,
        result_url: '/meshprogress/api/v1/meshes/7/result'
      }),
      '/user/alice/'
    );
    assert.equal(view.percent, 100);
    assert.equal(view.canCancel, false);
    assert.equal(view.canRetry, false);
    assert.equal(view.resultHref, '/user/alice/meshprogress/api/v1/meshes/7/result');
  });

  it('says it is connecting before the first payload', () => {
    const view = meshView({ ...meshState(), status: '', name: '', message: '', version: 0 }, '/');
    assert.equal(view.statusText, 'Connecting…');
    assert.equal(view.stateClass, 'mp-mod-unknown');
    assert.equal(view.title, 'Mesh 7');
  });
});

describe('batchView', () => {
  const state = (overrides: Partial<BatchState> = {}): BatchState => {
    const patch = batchPatch({ id: 3, version: 0 }, batchPayload());
    assert.ok(patch);
    return { ...patch, ...overrides };
  };

  it('summarises the counts', () => {
    const view = batchView(state());
    assert.equal(view.countsText, '4 completed, 1 failed of 10');
    assert.equal(view.canCancel, true);
    assert.equal(view.canRetry, false);
  });

  it('offers retry once all ended with failures or cancellations', () => {
    const ended = state({
      status: 'completed',
      completed: 9,
      failed: 0,
      cancelled: 1,
      processing: 0,
      pending: 0
    });
    assert.equal(batchView(ended).canRetry, true);
    const clean = state({
      status: 'completed',
      completed: 10,
      failed: 0,
      cancelled: 0,
      processing: 0,
      pending: 0
    });
    assert.equal(batchView(clean).canRetry, false);
  });
});

describe('resultHref', () => {
  it('keeps http(s) and places root-relative URLs under the base path', () => {
    assert.equal(resultHref('https://files.example/r.vtk', '/'), 'https://files.example/r.vtk');
    assert.equal(
      resultHref('/meshprogress/api/v1/meshes/7/result', '/'),
      '/meshprogress/api/v1/meshes/7/result'
    );
    assert.equal(resultHref('/user/alice/files/r.vtk', '/user/alice/'), '/user/alice/files/r.vtk');
    assert.equal(resultHref('files/r.vtk', '/user/alice'), '/user/alice/files/r.vtk');
  });

  it('refuses scripts and disguised schemes', () => {
    for (const url of [
      'javascript:alert(1)',
      'JaVaScRiPt:alert(1)',
      ' javascript:alert(1)',
      'java\tscript:alert(1)',
      'data:text/html,x',
      '\\\\evil.example',
      '/\\evil.example',
      '',
      null,
      undefined
    ]) {
      assert.equal(resultHref(url, '/'), null, String(url));
    }
  });
});

describe('URLs and errors', () => {
  it('builds the cable URL with and without a token', () => {
    assert.equal(cableUrl('ws://localhost:8888/', ''), 'ws://localhost:8888/meshprogress/cable');
    assert.equal(
      cableUrl('wss://hub.example/user/alice', 'a b&c'),
      'wss://hub.example/user/alice/meshprogress/cable?token=a%20b%26c'
    );
  });

  it('builds action paths', () => {
    assert.equal(actionPath('meshes', 7, 'cancel'), 'meshprogress/api/v1/meshes/7/cancel');
    assert.equal(actionPath('batches', 3, 'retry'), 'meshprogress/api/v1/batches/3/retry');
  });

  it("shows the hub's error message, else the status", () => {
    assert.equal(errorMessage(409, { error: 'Mesh 7 is completed' }), 'Mesh 7 is completed');
    assert.equal(errorMessage(502, null), 'Request failed (HTTP 502)');
  });
});

describe('module identity', () => {
  it('matches package.json (the Python side names the same module and version)', () => {
    const pkg = JSON.parse(readFileSync(join(process.cwd(), 'package.json'), 'utf8'));
    assert.equal(MODULE_NAME, pkg.name);
    assert.equal(MODULE_VERSION, pkg.version);
  });
});
