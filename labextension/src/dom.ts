/**
 * Small DOM helpers shared by the widget views and the sidebar: one write per animation frame, elements
 * built with `textContent` only (worker text is untrusted), and writes that skip unchanged values.
 */

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
