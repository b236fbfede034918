/**
 * Small DOM helpers shared by the widget views and the sidebar: one write per animation frame, elements
 * built with `textContent` only (worker text is untrusted), writes that skip unchanged values, and the
 * progress drawing (bar, text, actions) that a widget and a sidebar row have in common.
 */

import { ProgressDisplay, statusLabel } from './logic';

/** Runs `flush` at most once per animation frame, however often it is asked. */
export class FrameScheduler {
  private handle: number | null = null;

  constructor(private readonly flush: () => void) {}

  schedule(): void {
    if (this.handle === null) {
      this.handle = requestAnimationFrame(() => {
        this.handle = null;
        this.flush();
      });
    }
  }

  cancel(): void {
    if (this.handle !== null) {
      cancelAnimationFrame(this.handle);
      this.handle = null;
    }
  }
}

/** A new element appended to `parent`, with a class and attributes (never HTML). */
export function element<K extends keyof HTMLElementTagNameMap>(
  parent: HTMLElement,
  tag: K,
  className: string,
  attributes: Record<string, string> = {}
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  node.className = className;
  for (const [name, value] of Object.entries(attributes)) {
    node.setAttribute(name, value);
  }
  parent.appendChild(node);
  return node;
}

export function setText(node: HTMLElement, value: string): void {
  if (node.textContent !== value) {
    node.textContent = value;
  }
}

export function setAttribute(node: HTMLElement, name: string, value: string): void {
  if (node.getAttribute(name) !== value) {
    node.setAttribute(name, value);
  }
}

export function setWidth(node: HTMLElement, percent: number): void {
  const width = `${percent}%`;
  if (node.style.width !== width) {
    node.style.width = width;
  }
}

/** The elements a widget and a sidebar row both have. */
export interface ProgressParts {
  title: HTMLElement;
  bar: HTMLElement;
  fill: HTMLElement;
  percent: HTMLElement;
  status: HTMLElement;
  eta: HTMLElement;
  cancel: HTMLButtonElement;
  retry: HTMLButtonElement;
}

/** Writes what a widget and a sidebar row show alike: title, bar and its accessible value, text, actions. */
export function drawProgress(
  parts: ProgressParts,
  view: ProgressDisplay & { title: string },
  busy: boolean
): void {
  setText(parts.title, view.title);
  setWidth(parts.fill, view.percent);
  setAttribute(parts.bar, 'aria-valuenow', String(Math.round(view.percent * 10) / 10));
  setAttribute(parts.bar, 'aria-valuetext', `${view.percentText}, ${statusLabel(view.status)}`);
  setAttribute(parts.bar, 'aria-label', `${view.title} progress`);
  setText(parts.percent, view.percentText);
  setText(parts.status, view.statusText);
  setText(parts.eta, view.etaText);
  parts.eta.hidden = view.etaText === '';
  parts.cancel.hidden = !view.canCancel;
  parts.retry.hidden = !view.canRetry;
  parts.cancel.disabled = parts.retry.disabled = busy;
}
