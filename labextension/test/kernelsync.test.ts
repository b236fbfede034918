/**
 * Unit tests of the kernel mirror's queue (src/kernelsync.ts) on a driven clock: status changes go at once,
 * routine syncs at most one per model per second and one per gap for the page, oldest first.
 */

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { SYNC_GAP_MS, SYNC_MS, SyncQueue } from '../src/kernelsync';

class FakeClock {
  time = 0;
  private timers: { at: number; callback: () => void }[] = [];

  now(): number {
    return this.time;
  }

  setTimeout(callback: () => void, ms: number): void {
    this.timers.push({ at: this.time + ms, callback });
  }

  /** Move time forward, running each timer at its time. */
  advance(ms: number): void {
    const end = this.time + ms;
    for (;;) {
      this.timers.sort((a, b) => a.at - b.at);
      const next = this.timers[0];
      if (next === undefined || next.at > end) {
        break;
      }
      this.timers.shift();
      this.time = next.at;
      next.callback();
    }
    this.time = end;
  }
}

class Model {
  comm_live = true;
  sent: number[] = [];
  constructor(
    readonly name: string,
    private readonly clock: FakeClock
  ) {}
  save_changes(): void {
    this.sent.push(this.clock.time);
  }
}

function setup(count: number): { clock: FakeClock; queue: SyncQueue<Model>; models: Model[] } {
  const clock = new FakeClock();
  const queue = new SyncQueue<Model>(clock);
  const models = Array.from({ length: count }, (_, i) => new Model(`m${i}`, clock));
  return { clock, queue, models };
}

describe('SyncQueue', () => {
  it('sends a status change at once', () => {
    const { queue, models } = setup(1);
    queue.request(models[0], true);
    assert.deepEqual(models[0].sent, [0]);
  });

  it('sends one model at most once a second however often it changes', () => {
    const { clock, queue, models } = setup(1);
    for (let t = 0; t < 5000; t += 100) {
      queue.request(models[0], false);
      clock.advance(100);
    }
    const sent = models[0].sent;
    assert.ok(sent.length >= 4 && sent.length <= 5, `sent ${sent.length} times in 5 s`);
    for (let i = 1; i < sent.length; i++) {
      assert.ok(sent[i] - sent[i - 1] >= SYNC_MS);
    }
  });

  it('bounds the whole page to one routine sync per gap, oldest first', () => {
    const { clock, queue, models } = setup(200);
    const span = models.length * SYNC_GAP_MS + SYNC_MS;
    for (let t = 0; t < span; t += 100) {
      for (const model of models) {
        queue.request(model, false); // every widget changes ten times a second
      }
      clock.advance(100);
    }
    const all = models.flatMap(m => m.sent).sort((a, b) => a - b);
    assert.ok(all.length <= span / SYNC_GAP_MS + 1, `${all.length} syncs in ${span} ms`);
    for (let i = 1; i < all.length; i++) {
      assert.ok(all[i] - all[i - 1] >= SYNC_GAP_MS);
    }
    assert.ok(
      models.every(m => m.sent.length >= 1),
      'every widget was mirrored in its turn'
    );
  });

  it('drops a model whose kernel is gone and still serves the others', () => {
    const { clock, queue, models } = setup(2);
    queue.request(models[0], false);
    queue.request(models[1], false);
    models[0].comm_live = false;
    clock.advance(SYNC_GAP_MS * 3);
    assert.deepEqual(models[0].sent, []);
    assert.equal(models[1].sent.length, 1);
    assert.equal(queue.size, 0);
  });

  it('takes a status change out of the queue', () => {
    const { clock, queue, models } = setup(1);
    queue.request(models[0], false);
    queue.request(models[0], true);
    clock.advance(SYNC_MS * 2);
    assert.deepEqual(models[0].sent, [0]);
  });
});
