/**
 * The members of one expanded batch row in the "Mesh jobs" sidebar: each mesh's name, id, status and, once
 * completed, its download link; a click on a completed member opens its preview and on a failed one shows why it
 * failed, as in the batch widget.
 *
 * Members are read from `GET meshes?batch_id=` when the row is expanded and again whenever the batch's counts
 * change (the batch row is live on its channel), so a member's status follows the batch without watching one
 * channel per member; a member's percent is as of the last read.
 */

import { listMeshes } from './api';
import { element, setText } from './dom';
import { resultHref } from './logic';
import {
  createMemberFailure,
  createMemberRow,
  drawMemberFailure,
  drawMemberRow,
  MemberRow,
  onMemberPicked
} from './memberrow';
import { BatchMembers, MemberCounts } from './members';
import { PreviewPanel } from './preview';

/** The most members one `GET meshes?batch_id=` answers (docs/api.md); all of them are listed. */
const MEMBERS_READ = 200;

function memberRecords(body: unknown): Record<string, unknown>[] {
  const meshes = (body as { meshes?: unknown } | null)?.meshes;
  return Array.isArray(meshes)
    ? meshes.filter((m): m is Record<string, unknown> => typeof m === 'object' && m !== null)
    : [];
}

export class MemberPane {
  readonly node: HTMLElement;
  private readonly list: HTMLUListElement;
  private readonly rest: HTMLElement;
  private readonly message: HTMLElement;
  private readonly members = new BatchMembers(MEMBERS_READ);
  /** Shared member rows, each with the member's id beside its name. */
  private readonly rows: { row: MemberRow; id: HTMLElement }[] = [];
  private readonly preview: PreviewPanel;
  private readonly failure: HTMLElement;
  private selected: number | null = null;
  private counts: MemberCounts | null = null;
  /** The counts the last read was asked for: a read is due when they change. */
  private readFor: string | null = null;
  private reading = false;
  private readAgain = false;
  private error = '';
  private loaded = false;
  private disposed = false;

  /** `changed` asks the owner for a redraw (it calls `draw` in its animation frame). */
  constructor(
    id: string,
    private readonly batchId: number,
    private readonly serverPath: string,
    private readonly changed: () => void
  ) {
    this.node = document.createElement('div');
    this.node.className = 'mp-JobRow-members';
    this.node.id = id;
    this.message = element(this.node, 'div', 'mp-JobRow-membersMessage', { role: 'status' });
    this.list = element(this.node, 'ul', 'mp-Progress-members mp-JobRow-memberList', {
      'aria-label': 'Meshes in this batch'
    });
    this.rest = element(this.node, 'div', 'mp-Progress-more');
    this.failure = createMemberFailure(this.node);
    this.preview = new PreviewPanel(this.node);
    onMemberPicked(this.list, meshId => {
      this.selected = meshId;
      this.changed();
    });
  }

  /** The batch's latest counts (from its row); re-reads the members when they changed since the last read. */
  update(counts: MemberCounts | null): void {
    this.counts = counts;
    const key = JSON.stringify(counts);
    if (key !== this.readFor) {
      this.readFor = key;
      void this.read();
    }
  }

  dispose(): void {
    this.disposed = true;
    this.preview.dispose();
    this.node.remove();
  }

  /** One read at a time, and one more if asked meanwhile. */
  private async read(): Promise<void> {
    if (this.reading) {
      this.readAgain = true;
      return;
    }
    this.reading = true;
    const answer = await listMeshes(undefined, this.batchId, { limit: MEMBERS_READ });
    this.reading = false;
    if (this.disposed) {
      return;
    }
    if (answer.ok) {
      const records = memberRecords(answer.record);
      const ids = records
        .map(record => record.id ?? record.mesh_id)
        .filter((id): id is number => typeof id === 'number' && Number.isInteger(id));
      this.members.reset(ids);
      records.forEach(record => this.members.apply(record));
      this.error = '';
    } else {
      this.error = answer.error;
    }
    this.loaded = true;
    this.changed();
    if (this.readAgain) {
      this.readAgain = false;
      void this.read();
    }
  }

  draw(): void {
    const counts = this.counts ?? { ...zeroCounts(), total: this.members.size };
    const { rows, restText } = this.members.view(counts);
    const empty = this.loaded && rows.length === 0 && this.error === '';
    setText(this.message, this.error || (this.loaded ? (empty ? 'No meshes.' : '') : 'Loading…'));
    this.message.hidden = this.message.textContent === '';
    this.message.classList.toggle('mp-mod-error', this.error !== '');
    setText(this.rest, restText);
    this.rest.hidden = restText === '';
    this.list.hidden = rows.length === 0;
    while (this.rows.length < rows.length) {
      const row = createMemberRow(this.list, null);
      // The id tells apart members of the same name; the shared row shows names only.
      const id = document.createElement('span');
      id.className = 'mp-JobRow-memberId';
      row.item.insertBefore(id, row.name.nextSibling);
      this.rows.push({ row, id });
    }
    this.rows.forEach(({ row, id }, index) => {
      const entry = rows[index];
      row.item.hidden = entry === undefined;
      if (entry !== undefined) {
        drawMemberRow(row, entry, this.serverPath, this.selected);
        setText(id, `#${entry.mesh_id}`);
      }
    });
    drawMemberFailure(this.failure, rows, this.selected);
    const picked = rows.find(row => row.mesh_id === this.selected && row.status === 'completed');
    this.preview.show(
      picked ? picked.mesh_id : null,
      'completed',
      picked ? picked.name || `Mesh ${picked.mesh_id}` : '',
      picked ? resultHref(picked.result_url ?? null, this.serverPath) : null
    );
  }
}

function zeroCounts(): MemberCounts {
  return { total: 0, completed: 0, failed: 0, cancelled: 0, processing: 0, pending: 0 };
}
