/**
 * Unit tests of a save's rewrite budget (src/savebudget.ts) on a driven clock: ended jobs' outputs are always
 * rewritten, the others within the budget and in turn over successive saves, so every one is refreshed.
 */

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { MOVED_BUDGET_MS, RewriteBudget } from '../src/savebudget';

/** `count` rewrites that each take `ms` on the driven clock and record their index. */
function rewrites(
  count: number,
  ms: number,
  clock: { time: number },
  ran: number[]
): Array<() => void> {
  return Array.from({ length: count }, (_, index) => () => {
    clock.time += ms;
    ran.push(index);
  });
}

describe('RewriteBudget', () => {
  it('rewrites ended jobs at once, past the budget, and moved ones only within it', () => {
    const clock = { time: 0 };
    const budget = new RewriteBudget(() => clock.time);
    const urgentRan: number[] = [];
    const movedRan: number[] = [];
    const urgent = rewrites(5, 4, clock, urgentRan); // 20 ms: over the budget on their own
    const done = budget.run(0, urgent, rewrites(10, 1, clock, movedRan));
    assert.deepEqual(urgentRan, [0, 1, 2, 3, 4]);
    assert.equal(done, 0);
    assert.deepEqual(movedRan, []);
  });

  it('takes moved outputs in turn over successive saves until each was rewritten', () => {
    const clock = { time: 0 };
    const budget = new RewriteBudget(() => clock.time);
    const ran: number[] = [];
    const moved = rewrites(10, 3, clock, ran); // 3 ms each: three fit in one 8 ms budget
    const perSave: number[] = [];
    for (let save = 0; save < 4; save++) {
      perSave.push(budget.run(clock.time, [], moved));
    }
    assert.ok(MOVED_BUDGET_MS < 9);
    assert.deepEqual(perSave, [3, 3, 3, 3]);
    assert.deepEqual(ran, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1]);
  });

  it('starts from the first output again after a save that rewrote them all', () => {
    const clock = { time: 0 };
    const budget = new RewriteBudget(() => clock.time);
    const ran: number[] = [];
    assert.equal(budget.run(0, [], rewrites(2, 1, clock, ran)), 2);
    assert.equal(budget.run(clock.time, [], rewrites(3, 1, clock, ran)), 3);
    assert.deepEqual(ran, [0, 1, 0, 1, 2]);
  });
});
