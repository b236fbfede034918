/**
 * Drawing only what is on screen: one IntersectionObserver for the page, and a frame scheduler that defers a
 * view's drawing while its element is out of view and draws once when it scrolls in. A page of 200 widgets
 * then does DOM work for the dozen in view.
 */

import { FrameScheduler } from './dom';

const callbacks = new WeakMap<Element, (visible: boolean) => void>();
let observer: IntersectionObserver | null = null;

function shared(): IntersectionObserver {
  if (observer === null) {
    // A margin, so a widget is drawn just before it scrolls in.
    observer = new IntersectionObserver(
      entries => {
        for (const entry of entries) {
          callbacks.get(entry.target)?.(entry.isIntersecting);
        }
      },
      { rootMargin: '200px' }
    );
  }
  return observer;
}

/** Call `onChange` with whether `node` is (nearly) in view, from the page's one observer; returns the unwatch. */
export function watchVisibility(node: Element, onChange: (visible: boolean) => void): () => void {
  if (typeof IntersectionObserver === 'undefined') {
    return () => undefined;
  }
  callbacks.set(node, onChange);
  shared().observe(node);
  return () => {
    callbacks.delete(node);
    observer?.unobserve(node);
  };
}

/** A `FrameScheduler` that holds its flush while `node` is out of view. */
export class ViewportScheduler extends FrameScheduler {
  /** Visible until told otherwise: the first drawing happens before the observer's first report. */
  private visible = true;
  private held = false;
  private readonly unwatch: () => void;

  constructor(node: Element, flush: () => void) {
    super(flush);
    this.unwatch = watchVisibility(node, visible => this.setVisible(visible));
  }

  schedule(): void {
    if (this.visible) {
      super.schedule();
    } else {
      this.held = true;
    }
  }

  /** Stop drawing and observing (the view is removed). */
  dispose(): void {
    this.cancel();
    this.unwatch();
  }

  private setVisible(visible: boolean): void {
    this.visible = visible;
    if (visible && this.held) {
      this.held = false;
      super.schedule();
    }
  }
}
