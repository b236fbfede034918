/**
 * The whole text of a failure, one click away: a status line shows only a message's start (`shortMessage`),
 * so a long or multi-line one (up to 2,000 characters from the worker) stays readable without filling the cell.
 */

import { element, setAttribute, setText } from './dom';

let detailsCount = 0;

export class MessageDetails {
  /** "Details" / "Hide details"; hidden when there is nothing more to show. */
  readonly toggle: HTMLButtonElement;
  private readonly block: HTMLElement;
  private open = false;
  private text = '';

  /** The toggle goes into `toggleParent`, the text block into `blockParent` before `before`. */
  constructor(toggleParent: HTMLElement, blockParent: HTMLElement, before: Node | null) {
    const id = `mp-details-${++detailsCount}`;
    this.toggle = element(toggleParent, 'button', 'mp-Progress-detailsToggle', {
      type: 'button',
      'aria-expanded': 'false',
      'aria-controls': id
    });
    this.block = element(blockParent, 'div', 'mp-Progress-details', { id });
    blockParent.insertBefore(this.block, before);
    this.toggle.addEventListener('click', () => {
      this.open = !this.open;
      this.draw(this.text);
    });
    this.draw('');
  }

  /** Show `text` behind the toggle ('' hides both); `label` names what it belongs to for screen readers. */
  draw(text: string, label = 'the failure'): void {
    this.text = text;
    this.toggle.hidden = text === '';
    const open = this.open && text !== '';
    setText(this.toggle, open ? 'Hide details' : 'Details');
    setAttribute(this.toggle, 'aria-expanded', String(open));
    setAttribute(
      this.toggle,
      'aria-label',
      `${open ? 'Hide' : 'Show'} the whole message of ${label}`
    );
    setText(this.block, open ? text : '');
    this.block.hidden = !open;
  }
}
