/**
 * The 3D view of a result, drawn by three.js: orbit (drag), zoom (wheel), pan (right drag), reset. Loaded
 * lazily by `preview.ts` (its own chunk), so pages without a finished job never download three.js.
 *
 * It draws on demand (after a control moves or the canvas resizes), not in a loop; the canvas is transparent
 * so the theme's background shows through, and the mesh's grey reads on light and dark alike. Labelled
 * regions (a PLY's int vertex property `label`) get one colour each.
 */

import {
  BufferGeometry,
  Color,
  DirectionalLight,
  DoubleSide,
  Float32BufferAttribute,
  Group,
  HemisphereLight,
  Mesh,
  MeshStandardMaterial,
  Object3D,
  PerspectiveCamera,
  Scene,
  Sphere,
  Vector3,
  WebGLRenderer
} from 'three';
import { OrbitControls } from 'three/examples/jsm/controls/OrbitControls.js';
import { OBJLoader } from 'three/examples/jsm/loaders/OBJLoader.js';
import { PLYLoader } from 'three/examples/jsm/loaders/PLYLoader.js';
import { STLLoader } from 'three/examples/jsm/loaders/STLLoader.js';

import { labelColors } from './previewinfo';

/** Grey of an unlabelled mesh. */
const SURFACE = 0xa9b4c2;

/** Where the camera is, so a preview recreated after giving up its WebGL context looks the same. */
export interface CameraView {
  position: [number, number, number];
  target: [number, number, number];
}

export interface Viewer {
  /** Triangles drawn. */
  readonly faces: number;
  /** Back to the first view. */
  reset(): void;
  /** The camera now. */
  camera(): CameraView;
  /** The current frame as a PNG data URL. */
  picture(): string;
  dispose(): void;
}

function geometries(data: ArrayBuffer, format: string): BufferGeometry[] {
  if (format === 'ply') {
    const loader = new PLYLoader();
    if (plyHasLabels(data)) {
      loader.customPropertyMapping = { label: ['label'] }; // the setter's name differs in @types/three
    }
    return [loader.parse(data)];
  }
  if (format === 'stl') {
    return [new STLLoader().parse(data)];
  }
  if (format === 'obj') {
    const group: Group = new OBJLoader().parse(new TextDecoder().decode(data));
    const found: BufferGeometry[] = [];
    group.traverse((node: Object3D) => {
      if ((node as Mesh).isMesh) {
        found.push((node as Mesh).geometry);
      }
    });
    return found;
  }
  throw new Error(`cannot preview a ${format || 'file of unknown format'}`);
}

/** Whether a PLY's vertices have a `label` property (else the loader would fill one with NaN). */
function plyHasLabels(data: ArrayBuffer): boolean {
  const head = new TextDecoder('latin1').decode(data.slice(0, 4096));
  const header = head.slice(0, head.indexOf('end_header'));
  const vertex = header.split(/\nelement /).find(part => part.startsWith('vertex')) ?? '';
  return /\nproperty \w+ label\b/.test(vertex);
}

function surface(geometry: BufferGeometry): Mesh {
  if (!geometry.getAttribute('normal')) {
    geometry.computeVertexNormals();
  }
  const labels = geometry.getAttribute('label');
  const colors = labels ? labelColors(labels.array as ArrayLike<number>) : null;
  if (colors !== null) {
    geometry.setAttribute('color', new Float32BufferAttribute(colors, 3));
  }
  const material = new MeshStandardMaterial({
    color: colors === null ? SURFACE : 0xffffff,
    vertexColors: colors !== null,
    side: DoubleSide,
    roughness: 0.85,
    metalness: 0
  });
  return new Mesh(geometry, material);
}

function triangles(geometry: BufferGeometry): number {
  const index = geometry.getIndex();
  return Math.floor((index ? index.count : geometry.getAttribute('position').count) / 3);
}

/**
 * Draw the mesh file `data` (`ply`, `stl` or `obj`) into a new canvas in `host`, from `view` if given (else the
 * first view); throws without WebGL.
 */
export function createViewer(
  host: HTMLElement,
  data: ArrayBuffer,
  format: string,
  view: CameraView | null = null
): Viewer {
  const parts = geometries(data, format);
  const renderer = new WebGLRenderer({ antialias: true, alpha: true });
  renderer.setClearColor(new Color(0x000000), 0);
  renderer.setPixelRatio(Math.min(window.devicePixelRatio || 1, 2));
  try {
    return draw(host, parts, renderer, view);
  } catch (reason) {
    renderer.dispose();
    renderer.domElement.remove();
    throw reason;
  }
}

function draw(
  host: HTMLElement,
  parts: BufferGeometry[],
  renderer: WebGLRenderer,
  view: CameraView | null
): Viewer {
  const canvas = renderer.domElement;
  canvas.classList.add('mp-Preview-canvas');
  canvas.setAttribute('role', 'img');
  canvas.setAttribute('aria-label', '3D preview of the result: drag to rotate, scroll to zoom');
  host.appendChild(canvas);

  const scene = new Scene();
  const meshes = parts.map(surface);
  meshes.forEach(mesh => scene.add(mesh));
  const bounds = new Sphere();
  parts[0]?.computeBoundingSphere();
  bounds.copy(parts[0]?.boundingSphere ?? new Sphere(new Vector3(), 1));
  for (const part of parts.slice(1)) {
    part.computeBoundingSphere();
    if (part.boundingSphere) {
      bounds.union(part.boundingSphere);
    }
  }
  const radius = bounds.radius > 0 ? bounds.radius : 1;

  const camera = new PerspectiveCamera(35, 1, radius / 100, radius * 100);
  // Meshes from images are z-up (heights along z): look down on them at an angle.
  camera.up.set(0, 0, 1);
  const distance = radius / Math.sin((camera.fov * Math.PI) / 360);
  camera.position
    .copy(bounds.center)
    .add(new Vector3(0.55, -0.75, 0.65).normalize().multiplyScalar(distance * 1.05));
  scene.add(new HemisphereLight(0xffffff, 0x55606e, 1.6));
  const key = new DirectionalLight(0xffffff, 1.6);
  key.position.set(1, 1, 2);
  camera.add(key); // a light that follows the camera keeps the visible side lit
  scene.add(camera);

  const controls = new OrbitControls(camera, canvas);
  controls.target.copy(bounds.center);
  controls.update();
  controls.saveState();
  if (view !== null) {
    camera.position.set(...view.position);
    controls.target.set(...view.target);
    controls.update();
  }

  const render = (): void => renderer.render(scene, camera);
  const resize = (): void => {
    const width = Math.max(1, host.clientWidth);
    const height = Math.max(1, host.clientHeight);
    camera.aspect = width / height;
    camera.updateProjectionMatrix();
    renderer.setSize(width, height, false);
    render();
  };
  controls.addEventListener('change', render);
  const observer = new ResizeObserver(resize);
  observer.observe(host);
  resize();

  return {
    faces: parts.reduce((sum, part) => sum + triangles(part), 0),
    reset: () => {
      controls.reset();
      render();
    },
    camera: () => ({
      position: camera.position.toArray(),
      target: controls.target.toArray()
    }),
    picture: () => {
      render(); // the drawing buffer is read in the same task it is drawn, so it holds the frame
      return canvas.toDataURL('image/png');
    },
    dispose: () => {
      observer.disconnect();
      controls.dispose();
      for (const mesh of meshes) {
        mesh.geometry.dispose();
        (mesh.material as MeshStandardMaterial).dispose();
      }
      renderer.dispose();
      renderer.forceContextLoss();
      canvas.remove();
    }
  };
}
