// The README is a page a newcomer reads to the end, and every link in it and in the guides leads somewhere.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

const pages = [
  'README.md',
  ...readdirSync('docs')
    .filter((n) => n.endsWith('.md'))
    .map((n) => join('docs', n)),
];

/** Relative link targets of a markdown page (outside code blocks), without their #anchor. */
function relativeLinks(text: string): string[] {
  const prose = text.replace(/^```[\s\S]*?^```/gm, '').replace(/<!--[\s\S]*?-->/g, '');
  const links: string[] = [];
  for (const m of prose.matchAll(/\]\(([^)\s]+)\)/g)) {
    const target = m[1]!;
    if (/^[a-z]+:/i.test(target) || target.startsWith('#')) continue;
    links.push(target.replace(/#.*$/, ''));
  }
  return links;
}

test('README stays under 300 lines and has the set-up commands, the commands table and a capture', () => {
  const readme = readFileSync('README.md', 'utf8');
  assert.ok(readme.split('\n').length < 300, `README.md has ${readme.split('\n').length} lines`);
  assert.match(readme, /npm install && npm start/);
  assert.match(readme, /npm run demo/);
  assert.match(readme, /npm test/);
  assert.match(readme, /\| command \| what it is for \|/);
  assert.match(readme, /```text\n[\s\S]*(RUNNING|PAUSED)[\s\S]*```/);
});

test('every relative link in README.md and docs/*.md points at a file that exists', () => {
  const broken: string[] = [];
  for (const page of pages) {
    for (const target of relativeLinks(readFileSync(page, 'utf8'))) {
      if (!existsSync(join(dirname(page), target))) broken.push(`${page}: ${target}`);
    }
  }
  assert.deepEqual(broken, []);
});

test('every guide in docs/ is linked from the README', () => {
  const linked = new Set(relativeLinks(readFileSync('README.md', 'utf8')));
  const guides = readdirSync('docs').filter((n) => n.endsWith('.md'));
  assert.deepEqual(
    guides.filter((g) => !linked.has(`docs/${g}`)),
    [],
    'add a row for each new guide to the Guides table in README.md',
  );
});

test('shell examples in the guides spell the command one way: npx esp-station', () => {
  const bare: string[] = [];
  for (const page of pages) {
    const lines = readFileSync(page, 'utf8').split('\n');
    let fence = '';
    lines.forEach((line, i) => {
      if (line.startsWith('```')) fence = fence ? '' : line.slice(3) || 'plain';
      else if (fence === 'sh' && /^(\$ )?esp-station /.test(line)) bare.push(`${page}:${i + 1}`);
      else if (/^\$ esp-station /.test(line)) bare.push(`${page}:${i + 1}`);
    });
  }
  assert.deepEqual(bare, []);
});
