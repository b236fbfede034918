/**
 * A page-wide cap on live 3D previews. Each live preview holds a WebGL context, and Chromium keeps only about
 * 16 per page, silently losing the oldest beyond that (its canvas goes blank): a notebook of 30 finished jobs
 * would show blank previews. Previews claim a context when they come into view or are touched; past the cap,
 * the one used longest ago gives its context back and shows a still picture of its last frame instead.
 */

/** Well under Chromium's limit, leaving room for other extensions' canvases. */
export const MAX_LIVE = 8;

export interface ContextHolder {
  /** Give up the WebGL context now (keep a still picture and the camera). */
  release(): void;
}

/** Live holders, the one used longest ago first. */
const live: ContextHolder[] = [];

/** `holder` has (or is about to create) a live context; release the oldest others beyond the cap. */
export function claim(holder: ContextHolder): void {
  drop(holder);
  live.push(holder);
  while (live.length > MAX_LIVE) {
    live.shift()?.release();
  }
}

/** `holder` no longer has a live context. */
export function drop(holder: ContextHolder): void {
  const index = live.indexOf(holder);
  if (index >= 0) {
    live.splice(index, 1);
  }
}

/** How many previews hold a context now (for tests). */
export function liveCount(): number {
  return live.length;
}
