/**
 * What the result preview says beside the 3D view, free of DOM and three.js imports so it runs under Node's
 * test runner: the file's format and size, the lines of the worker's quality report (`quality` of the mesh
 * record, untrusted JSON), and the colour of each labelled region.
 */

/** The REST paths (relative to the base URL) of a mesh's files. */
export function meshFilePath(id: number, file: 'result' | 'preview'): string {
  return `meshprogress/api/v1/meshes/${encodeURIComponent(String(id))}/${file}`;
}

/** The file name of a `Content-Disposition` header, or `''`. */
export function dispositionName(header: string | null): string {
  const match = /filename="([^"]*)"/.exec(header ?? '') ?? /filename=([^;\s]+)/.exec(header ?? '');
  return match ? match[1] : '';
}

/** The mesh format a file name's suffix names (`ply`, `stl`, `obj`), or `''` for anything else. */
export function meshFormat(name: string): string {
  const suffix = name.toLowerCase().split('.').pop() ?? '';
  return ['ply', 'stl', 'obj'].includes(suffix) && name.includes('.') ? suffix : '';
}

/** Bytes as `812 B`, `4.2 kB`, `13.0 MB` (decimal units, as file managers show them). */
export function formatBytes(bytes: number | null): string {
  if (bytes === null || !Number.isFinite(bytes) || bytes < 0) {
    return '';
  }
  if (bytes < 1000) {
    return `${Math.round(bytes)} B`;
  }
  const units = ['kB', 'MB', 'GB', 'TB'];
  let value = bytes / 1000;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${value.toFixed(1)} ${units[unit]}`;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function num(value: unknown): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

function short(value: number): string {
  if (Number.isInteger(value) && Math.abs(value) < 1e9) {
    return value.toLocaleString('en-US');
  }
  const abs = Math.abs(value);
  return abs !== 0 && (abs < 1e-3 || abs >= 1e6)
    ? value.toExponential(3)
    : String(Number(value.toPrecision(4)));
}

/** A bounding box as its extent `12 × 8 × 3`: from `[[min...], [max...]]`, `{min, max}` or `[dx, dy, dz]`. */
function extent(value: unknown): string {
  let size: unknown[] | null = null;
  if (
    Array.isArray(value) &&
    value.length === 2 &&
    Array.isArray(value[0]) &&
    Array.isArray(value[1])
  ) {
    size = value[1].map((hi, i) =>
      num(hi) !== null && num((value[0] as unknown[])[i]) !== null
        ? (hi as number) - ((value[0] as unknown[])[i] as number)
        : null
    );
  } else if (isObject(value) && Array.isArray(value.min) && Array.isArray(value.max)) {
    const min = value.min;
    size = value.max.map((hi, i) =>
      num(hi) !== null && num(min[i]) !== null ? (hi as number) - (min[i] as number) : null
    );
  } else if (Array.isArray(value)) {
    size = value;
  }
  if (size === null || size.length === 0 || size.some(v => num(v) === null)) {
    return '';
  }
  return size.map(v => short(v as number)).join(' × ');
}

const LABELS: Record<string, string> = {
  faces: 'Faces',
  cells: 'Cells',
  vertices: 'Vertices',
  watertight: 'Watertight',
  volume: 'Volume',
  area: 'Area',
  bbox: 'Size',
  min_angle: 'Min angle',
  error: 'Error'
};

/**
 * The quality report as `[label, text]` lines: the known keys first in a fixed order, then any other scalar;
 * absent, null and malformed values are left out. Text only (the report comes from a worker).
 */
export function qualityLines(quality: unknown): Array<[string, string]> {
  if (!isObject(quality)) {
    return [];
  }
  const lines: Array<[string, string]> = [];
  const keys = [
    ...Object.keys(LABELS).filter(k => k in quality),
    ...Object.keys(quality).filter(k => !(k in LABELS))
  ];
  for (const key of keys) {
    const value = quality[key];
    let text = '';
    if (key === 'bbox') {
      text = extent(value);
    } else if (typeof value === 'boolean') {
      text = value ? 'yes' : 'no';
    } else if (num(value) !== null) {
      text = key === 'min_angle' ? `${short(value as number)}°` : short(value as number);
    } else if (typeof value === 'string') {
      text = value.slice(0, 200);
    }
    if (text !== '') {
      lines.push([LABELS[key] ?? key.replace(/_/g, ' ').slice(0, 40), text]);
    }
  }
  return lines;
}

/** Colours of labelled regions: a qualitative palette (Tableau 10), as 0..1 RGB, repeating past ten. */
const PALETTE: ReadonlyArray<[number, number, number]> = [
  [0x4e, 0x79, 0xa7],
  [0xf2, 0x8e, 0x2b],
  [0xe1, 0x57, 0x59],
  [0x76, 0xb7, 0xb2],
  [0x59, 0xa1, 0x4f],
  [0xed, 0xc9, 0x48],
  [0xb0, 0x7a, 0xa1],
  [0xff, 0x9d, 0xa7],
  [0x9c, 0x75, 0x5f],
  [0xba, 0xb0, 0xac]
].map(([r, g, b]) => [r / 255, g / 255, b / 255] as [number, number, number]);

/** The colour of region `label` (any integer, negative too; anything else gets the first colour). */
export function labelColor(label: number): [number, number, number] {
  const n = PALETTE.length;
  return Number.isFinite(label) ? PALETTE[((Math.trunc(label) % n) + n) % n] : PALETTE[0];
}

/** Per-vertex RGB for per-vertex labels, or null when every vertex has the same label (one plain colour). */
export function labelColors(labels: ArrayLike<number>): Float32Array | null {
  if (labels.length === 0 || Array.prototype.every.call(labels, (l: number) => l === labels[0])) {
    return null;
  }
  const colors = new Float32Array(labels.length * 3);
  for (let i = 0; i < labels.length; i++) {
    colors.set(labelColor(labels[i]), i * 3);
  }
  return colors;
}
