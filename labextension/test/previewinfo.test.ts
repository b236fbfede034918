/**
 * Unit tests of what the result preview says (src/previewinfo.ts): file names and formats from headers, sizes,
 * the quality report's lines (untrusted JSON), and region colours.
 */

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import {
  dispositionName,
  formatBytes,
  labelColor,
  labelColors,
  meshFilePath,
  meshFormat,
  qualityLines
} from '../src/previewinfo';

describe('files', () => {
  it('names the routes of a mesh', () => {
    assert.equal(meshFilePath(7, 'preview'), 'meshprogress/api/v1/meshes/7/preview');
    assert.equal(meshFilePath(7, 'result'), 'meshprogress/api/v1/meshes/7/result');
  });

  it('reads the file name and format of a Content-Disposition header', () => {
    assert.equal(
      dispositionName('inline; filename="terrain_single.preview.ply"'),
      'terrain_single.preview.ply'
    );
    assert.equal(dispositionName('attachment; filename=brain.stl'), 'brain.stl');
    assert.equal(dispositionName(null), '');
    assert.equal(meshFormat('terrain_single.preview.ply'), 'ply');
    assert.equal(meshFormat('BRAIN.STL'), 'stl');
    assert.equal(meshFormat('a.obj'), 'obj');
    assert.equal(meshFormat('a.vtu'), '');
    assert.equal(meshFormat('ply'), '');
  });

  it('writes sizes in decimal units', () => {
    assert.equal(formatBytes(812), '812 B');
    assert.equal(formatBytes(4200), '4.2 kB');
    assert.equal(formatBytes(13_040_000), '13.0 MB');
    assert.equal(formatBytes(2.5e12), '2.5 TB');
    assert.equal(formatBytes(null), '');
    assert.equal(formatBytes(-1), '');
  });
});

describe('qualityLines', () => {
  it('lists the known keys in order, then other scalars, and leaves out nulls and junk', () => {
    const lines = qualityLines({
      error: null,
      min_angle: 21.4567,
      watertight: true,
      faces: 100000,
      bbox: [
        [0, 0, 0],
        [128, 96, 12.5]
      ],
      volume: 12345.678,
      area: 0.0000123,
      genus: 0,
      nested: { a: 1 },
      cells: 'many'
    });
    assert.deepEqual(lines, [
      ['Faces', '100,000'],
      ['Cells', 'many'],
      ['Watertight', 'yes'],
      ['Volume', '12350'],
      ['Area', '1.230e-5'],
      ['Size', '128 × 96 × 12.5'],
      ['Min angle', '21.46°'],
      ['genus', '0']
    ]);
  });

  it('reads a bounding box as min/max or as an extent, and nothing from a malformed one', () => {
    assert.deepEqual(qualityLines({ bbox: { min: [1, 1, 1], max: [3, 5, 2] } }), [
      ['Size', '2 × 4 × 1']
    ]);
    assert.deepEqual(qualityLines({ bbox: [2, 4, 1] }), [['Size', '2 × 4 × 1']]);
    assert.deepEqual(qualityLines({ bbox: ['x', 1] }), []);
  });

  it('has nothing to say without a report', () => {
    assert.deepEqual(qualityLines(null), []);
    assert.deepEqual(qualityLines([1, 2]), []);
    assert.deepEqual(qualityLines({ error: 'degenerate faces' }), [['Error', 'degenerate faces']]);
  });
});

describe('labelColors', () => {
  it('colours each region, repeating the palette, negative labels too', () => {
    assert.deepEqual(labelColor(0), labelColor(10));
    assert.deepEqual(labelColor(-1), labelColor(9));
    assert.notDeepEqual(labelColor(0), labelColor(1));
    assert.deepEqual(labelColor(NaN), labelColor(0));
    const colors = labelColors(new Int32Array([0, 1, 1]));
    assert.ok(colors !== null && colors.length === 9);
    assert.deepEqual(Array.from(colors.slice(3, 6)), Array.from(new Float32Array(labelColor(1))));
  });

  it('leaves a mesh of one region (or none) to the plain colour', () => {
    assert.equal(labelColors(new Int32Array([3, 3, 3])), null);
    assert.equal(labelColors([]), null);
  });
});
