/** The page-wide cap on live WebGL previews: past it, the holder used longest ago is released. */

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { claim, drop, liveCount, MAX_LIVE } from '../src/viewerpool';

function holders(count: number): Array<{ released: number; release(): void }> {
  return Array.from({ length: count }, () => ({
    released: 0,
    release() {
      this.released += 1;
    }
  }));
}

describe('viewerpool', () => {
  it('releases the holder used longest ago past the cap', () => {
    const all = holders(MAX_LIVE + 2);
    all.forEach(holder => claim(holder));
    assert.equal(liveCount(), MAX_LIVE);
    assert.deepEqual(
      all.map(holder => holder.released),
      [1, 1, ...Array(MAX_LIVE).fill(0)]
    );
    all.forEach(holder => drop(holder));
    assert.equal(liveCount(), 0);
  });

  it('counts a claim again as a use, not a second context', () => {
    const all = holders(MAX_LIVE);
    all.forEach(holder => claim(holder));
    claim(all[0]); // touched again: now the newest
    const extra = holders(1)[0];
    claim(extra);
    assert.equal(all[0].released, 0);
    assert.equal(all[1].released, 1);
    assert.equal(liveCount(), MAX_LIVE);
    [...all, extra].forEach(holder => drop(holder));
  });
});
