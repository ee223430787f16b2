// Captures quoted in the docs are what `npm run docs:captures` last produced: a stale copy fails here.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { quotedCaptures } from '../../scripts/captures-embed.ts';
import { decodePng } from '../report/chromium.ts';

const pages = [
  'README.md',
  ...readdirSync('docs')
    .filter((n) => n.endsWith('.md'))
    .map((n) => join('docs', n)),
];

test('every capture quoted in README.md and docs/*.md is the file in docs/captures it names', () => {
  let quoted = 0;
  for (const page of pages) {
    for (const { file, text } of quotedCaptures(readFileSync(page, 'utf8'))) {
      quoted++;
      const path = join('docs/captures', file);
      assert.ok(existsSync(path), `${page} quotes ${path}, which does not exist`);
      assert.equal(text, readFileSync(path, 'utf8'), `${page}: ${file} is stale; run npm run docs:captures`);
    }
  }
  assert.ok(quoted >= 2, 'the README and the screen guide quote captures');
});

test('the README shows the demo screen with the station running, and the report screenshot is a real PNG', () => {
  const [demo] = quotedCaptures(readFileSync('README.md', 'utf8'));
  assert.equal(demo?.file, 'demo-120x40.txt');
  assert.match(demo.text, /RUNNING/);
  const lines = demo.text.split('\n').slice(0, -1);
  assert.ok(lines.length <= 40 && lines.every((l) => l.length <= 120), 'a 120×40 screen');
  const png = decodePng(readFileSync('docs/captures/report.png'));
  assert.equal(png.width, 1280);
});

test('the captures are of the demo as it is: its profile tests each board on the AT port, so the tiles say +AT', () => {
  // A capture made before the demo got its AT test showed tiles without the mark (and another recipe).
  const profile = readFileSync('stations/demo-esp32-at.yaml', 'utf8');
  assert.match(profile, /^test:/m, 'the demo profile has the post-flash test on');
  for (const page of pages) {
    for (const { file, text } of quotedCaptures(readFileSync(page, 'utf8'))) {
      if (!/^(demo|fixture)-\d+x\d+\.txt$/.test(file)) continue;
      assert.match(text, / \+AT\b/, `${page}: ${file} predates the AT test; run npm run docs:captures`);
    }
  }
});
