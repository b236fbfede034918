/** The static rendering the browser writes at save time equals the kernel's (shared cases with Python). */

import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';

import { escapeHtml, snapshotHtml, summaryText } from '../src/snapshot';

const CASES = join(process.cwd(), '..', 'tests', 'notebook', 'widgets', 'format_cases.json');

describe(
  'snapshot (shared cases with Python)',
  { skip: !existsSync(CASES) && 'format_cases.json missing' },
  () => {
    const cases = existsSync(CASES) ? JSON.parse(readFileSync(CASES, 'utf8')) : { snapshot: [] };

    it('writes the text and the HTML the kernel writes', () => {
      for (const [kind, state, text, html] of cases.snapshot) {
        assert.equal(summaryText(kind, state), text);
        assert.equal(snapshotHtml(kind, state), html);
      }
    });

    it('escapes like html.escape', () => {
      assert.equal(
        escapeHtml(`<a href="x">'&'</a>`),
        '&lt;a href=&quot;x&quot;&gt;&#x27;&amp;&#x27;&lt;/a&gt;'
      );
    });
  }
);
