/**
 * The result panel of a finished mesh: the interactive 3D preview (three.js, loaded on first use) beside the
 * quality report, the file's format and size, and the download link.
 *
 * Everything comes from the hub's REST routes through `ServerConnection` (the page's credentials), never from
 * the kernel: the panel works while a cell runs and after a kernel restart. The mesh drawn is
 * `GET meshes/{id}/preview` (the worker's decimated copy of a large result); the size and format are those of
 * the full result (`HEAD meshes/{id}/result`); the report is the `quality` object of `GET meshes/{id}`.
 *
 * A preview holds a WebGL context only while it is in view (and among the page's `MAX_LIVE` used last); out of
 * view or past the cap it shows a still picture of its last frame, and turns live again when it scrolls in or
 * is clicked, from the same camera.
 */

import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';

import { element, setText } from './dom';
import {
  dispositionName,
  formatBytes,
  meshFilePath,
  meshFormat,
  qualityLines
} from './previewinfo';
import type { CameraView, createViewer, Viewer } from './viewer';
import { claim, ContextHolder, drop } from './viewerpool';
import { watchVisibility } from './visibility';

async function call(path: string, method: 'GET' | 'HEAD'): Promise<Response | null> {
  const settings = ServerConnection.makeSettings();
  try {
    return await ServerConnection.makeRequest(
      URLExt.join(settings.baseUrl, path),
      { method },
      settings
    );
  } catch {
    return null;
  }
}

export class PreviewPanel implements ContextHolder {
  readonly node: HTMLElement;
  private readonly stage: HTMLElement;
  private readonly note: HTMLElement;
  private readonly title: HTMLElement;
  private readonly facts: HTMLElement;
  private readonly reset: HTMLButtonElement;
  private readonly download: HTMLAnchorElement;
  /** The last frame of a released view; made on the first release (most previews never need one). */
  private still: HTMLImageElement | null = null;
  private readonly unwatch: () => void;
  private viewer: Viewer | null = null;
  /** The loaded preview file and the viewer module, kept to draw it again after a release. */
  private source: { data: ArrayBuffer; format: string; create: typeof createViewer } | null = null;
  private camera: CameraView | null = null;
  private visible = true;
  private shown = '';
  private generation = 0;

  constructor(parent: HTMLElement) {
    this.node = element(parent, 'div', 'mp-Preview');
    this.node.hidden = true;
    this.stage = element(this.node, 'div', 'mp-Preview-stage');
    this.note = element(this.stage, 'div', 'mp-Preview-note', { role: 'status' });
    this.unwatch = watchVisibility(this.stage, visible => {
      this.visible = visible;
      if (visible) {
        this.goLive();
      } else {
        this.release();
      }
    });
    const side = element(this.node, 'div', 'mp-Preview-side');
    this.title = element(side, 'div', 'mp-Preview-title');
    // Plain elements, not dl/dt/dd: JupyterLab's rendered-HTML styles for those would win over these.
    this.facts = element(side, 'div', 'mp-Preview-facts');
    const tools = element(side, 'div', 'mp-Preview-tools');
    this.reset = element(tools, 'button', 'mp-Progress-button mp-Preview-reset', {
      type: 'button'
    });
    this.reset.textContent = 'Reset view';
    this.reset.addEventListener('click', () => {
      this.goLive();
      this.viewer?.reset();
    });
    this.download = element(tools, 'a', 'mp-Progress-button mp-Preview-download', { download: '' });
    this.download.textContent = 'Download';
    const hint = element(side, 'div', 'mp-Preview-hint');
    hint.textContent = 'Drag to rotate, scroll to zoom, right-drag to pan.';
  }

  /**
   * Show mesh `id`'s result (null hides the panel). `key` names what is shown: the same key keeps the panel as
   * it is, a new one (a retried job that finished again) loads anew. `title` and `href` (the result's download
   * URL) are left out when empty or null (a single job's widget shows them itself).
   */
  show(id: number | null, key: string, title: string, href: string | null): void {
    const wanted = id === null ? '' : `${id}:${key}`;
    if (wanted === this.shown) {
      return;
    }
    this.shown = wanted;
    const generation = ++this.generation;
    this.clear();
    this.node.hidden = id === null;
    if (id !== null) {
      this.node.dataset.meshId = String(id);
      setText(this.title, title);
      this.title.hidden = title === '';
      this.download.hidden = href === null;
      if (href !== null) {
        this.download.href = href;
      }
      void this.load(id, generation);
    }
  }

  dispose(): void {
    this.generation++;
    this.unwatch();
    this.clear();
    this.node.remove();
  }

  /** Give the WebGL context back, showing the last frame as a picture (`ContextHolder`). */
  release(): void {
    if (this.viewer === null) {
      return;
    }
    this.camera = this.viewer.camera();
    if (this.still === null) {
      this.still = element(this.stage, 'img', 'mp-Preview-still', {
        alt: '3D preview of the result, resting: click to turn it'
      });
      this.still.addEventListener('pointerdown', () => this.goLive());
    }
    this.still.src = this.viewer.picture();
    this.still.hidden = false;
    this.viewer.dispose();
    this.viewer = null;
    drop(this);
  }

  /** Draw live again (in view, clicked or reset), from the camera it had. */
  private goLive(): void {
    if (this.viewer !== null || this.source === null || !this.visible) {
      return;
    }
    const { data, format, create } = this.source;
    try {
      this.viewer = create(this.stage, data, format, this.camera);
    } catch (reason) {
      console.warn('meshprogress-nb: the 3D preview could not be drawn again', reason);
      return; // the still picture stays
    }
    if (this.still !== null) {
      this.still.hidden = true;
    }
    claim(this);
  }

  private clear(): void {
    this.viewer?.dispose();
    this.viewer = null;
    drop(this);
    this.source = null;
    this.camera = null;
    this.still?.remove();
    this.still = null;
    this.facts.replaceChildren();
    this.node.dataset.state = 'loading';
    this.reset.disabled = true;
    setText(this.note, 'Loading preview…');
    this.note.hidden = false;
  }

  private fact(label: string, value: string): void {
    const term = element(this.facts, 'span', 'mp-Preview-term');
    term.textContent = label;
    const detail = element(this.facts, 'span', 'mp-Preview-value');
    detail.textContent = value;
  }

  private async load(id: number, generation: number): Promise<void> {
    const [preview, result, record] = await Promise.all([
      call(meshFilePath(id, 'preview'), 'GET'),
      call(meshFilePath(id, 'result'), 'HEAD'),
      call(`meshprogress/api/v1/meshes/${encodeURIComponent(String(id))}`, 'GET')
    ]);
    const data = preview?.ok ? await preview.arrayBuffer().catch(() => null) : null;
    const body: unknown = record?.ok ? await record.json().catch(() => null) : null;
    if (generation !== this.generation) {
      return;
    }
    if (result?.ok) {
      const format = meshFormat(dispositionName(result.headers.get('Content-Disposition')));
      const size = Number(result.headers.get('Content-Length') ?? NaN);
      this.fact('Format', format ? format.toUpperCase() : 'unknown');
      if (Number.isFinite(size)) {
        this.fact('File size', formatBytes(size));
      }
    }
    const quality =
      typeof body === 'object' && body !== null ? (body as { quality?: unknown }).quality : null;
    for (const [label, value] of qualityLines(quality)) {
      this.fact(label, value);
    }
    if (data === null) {
      this.node.dataset.state = 'missing';
      setText(
        this.note,
        preview === null ? 'Hub unreachable: no preview' : 'No preview for this result'
      );
      return;
    }
    const name = dispositionName(preview!.headers.get('Content-Disposition'));
    try {
      const { createViewer } = await import('./viewer');
      if (generation !== this.generation) {
        return;
      }
      this.viewer = createViewer(this.stage, data, meshFormat(name));
      this.source = { data, format: meshFormat(name), create: createViewer };
      claim(this);
    } catch (reason) {
      console.warn('meshprogress-nb: no 3D preview', reason);
      this.node.dataset.state = 'failed';
      setText(
        this.note,
        `No 3D preview: ${reason instanceof Error ? reason.message : String(reason)}`
      );
      return;
    }
    if (name.endsWith('.preview.ply')) {
      this.fact('Preview', `${this.viewer.faces.toLocaleString('en-US')} faces (decimated)`);
    }
    if (!this.visible) {
      this.release(); // scrolled away while loading
    }
    this.note.hidden = true;
    this.reset.disabled = false;
    this.node.dataset.state = 'ready';
  }
}
