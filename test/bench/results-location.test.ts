// A bench run records one machine's state; it must not rewrite tracked files (issue #16, item 16).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from '../firmware/fixture-paths.ts';

const git = (...args: string[]) => spawnSync('git', args, { cwd: REPO_ROOT, encoding: 'utf8' });

test('bench results go to var/bench (ignored by git) or --out, never into the tracked tree', (t) => {
  const out = mkdtempSync(join(tmpdir(), 'bench-out-'));
  t.after(() => rmSync(out, { recursive: true, force: true }));
  const before = git('status', '--porcelain', '--untracked-files=all').stdout;
  // The cheapest part of the bench (image-set preparation, a few seconds), written where we say.
  const r = spawnSync(
    process.execPath,
    ['--import', 'tsx', 'bench/run.ts', '--only', 'prepare', '--out', out],
    {
      cwd: REPO_ROOT,
      encoding: 'utf8',
    },
  );
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(
    readdirSync(out)
      .filter((f) => f.startsWith('latest'))
      .sort(),
    ['latest.json', 'latest.txt'],
  );
  assert.equal(
    git('status', '--porcelain', '--untracked-files=all').stdout,
    before,
    'the bench touched the tree',
  );
  assert.equal(git('check-ignore', '-q', 'var/bench/latest.json').status, 0, 'the default place is ignored');
  assert.equal(git('ls-files', 'bench/results').stdout, '', 'no bench results are tracked');
});
