/**
 * The few REST calls the widgets and the sidebar make, through JupyterLab's `ServerConnection` (which adds
 * the server's base URL, the token header and the XSRF header).
 */

import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';

import { actionPath, errorMessage } from './logic';

/** A hub answer: the record on success, the message to show otherwise. */
export type HubResult = { ok: true; record: unknown } | { ok: false; error: string };

async function request(path: string, init: RequestInit): Promise<HubResult> {
  const settings = ServerConnection.makeSettings();
  let response: Response;
  try {
    response = await ServerConnection.makeRequest(
      URLExt.join(settings.baseUrl, path),
      init,
      settings
    );
  } catch (reason) {
    return { ok: false, error: `Hub unreachable: ${String(reason)}` };
  }
  const body: unknown = await response.json().catch(() => null);
  return response.ok
    ? { ok: true, record: body }
    : { ok: false, error: errorMessage(response.status, body) };
}

/** `POST meshprogress/api/v1/{meshes|batches}/{id}/{cancel|retry}`; answers the updated record. */
export function postAction(
  kind: 'meshes' | 'batches',
  id: number,
  action: 'cancel' | 'retry'
): Promise<HubResult> {
  return request(actionPath(kind, id, action), { method: 'POST' });
}

/**
 * `GET meshprogress/api/v1/meshes[?status=][&batch_id=]`: `{"meshes": [...]}`, the user's newest meshes, or with
 * `batchId` that batch's members (for anyone who may read the batch).
 */
export function listMeshes(status?: string, batchId?: number, page: Page = {}): Promise<HubResult> {
  const params = pageParams(page);
  if (status) {
    params.set('status', status);
  }
  if (batchId !== undefined) {
    params.set('batch_id', String(batchId));
  }
  const query = params.toString();
  return request(`meshprogress/api/v1/meshes${query ? `?${query}` : ''}`, { method: 'GET' });
}

/** `GET meshprogress/api/v1/batches`: `{"batches": [...], "next_before"}`, the user's newest batches. */
export function listBatches(page: Page = {}): Promise<HubResult> {
  const query = pageParams(page).toString();
  return request(`meshprogress/api/v1/batches${query ? `?${query}` : ''}`, { method: 'GET' });
}

/** One page of a user's list: at most `limit` records with an id below `before`. */
export interface Page {
  limit?: number;
  before?: number;
}

function pageParams(page: Page): URLSearchParams {
  const params = new URLSearchParams();
  if (page.limit !== undefined) {
    params.set('limit', String(page.limit));
  }
  if (page.before !== undefined) {
    params.set('before', String(page.before));
  }
  return params;
}

/** `GET meshprogress/api/v1/batches/{id}`: the batch record with its `mesh_ids`. */
export function getBatch(id: number): Promise<HubResult> {
  return request(`meshprogress/api/v1/batches/${encodeURIComponent(String(id))}`, {
    method: 'GET'
  });
}

/** The server's base path (e.g. `/` or `/user/alice/`), where root-relative result URLs live. */
export function basePath(): string {
  const path = URLExt.parse(ServerConnection.makeSettings().baseUrl).pathname || '/';
  return path.endsWith('/') ? path : `${path}/`;
}
