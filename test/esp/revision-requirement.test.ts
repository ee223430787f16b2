// Which chip revisions an image accepts, decided as esptool v5.3.1's write_flash decides it (cmds.py: the
// min/max_rev_full fields when set, else the legacy min_rev byte — the minor version on ESP32-C3, the major one
// elsewhere).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { revisionRefusal, revisionRequirement } from '../../src/esp/revision-requirement.ts';

test('full range: min..max inclusive; 0xFFFF means no maximum', () => {
  const c3 = revisionRequirement('esp-at.bin', { minRev: 3, minRevFull: 3, maxRevFull: 199 }, 'minor');
  assert.deepEqual(c3, { image: 'esp-at.bin', kind: 'full', min: 3, max: 199 });
  assert.equal(revisionRefusal([c3], 3), undefined);
  assert.equal(revisionRefusal([c3], 199), undefined);
  assert.equal(revisionRefusal([c3], 2), 'esp-at.bin needs chip revision v0.3 to v1.99; this chip is v0.2');
  assert.match(revisionRefusal([c3], 200)!, /this chip is v2\.0/);
  const open = revisionRequirement('app', { minRev: 0, minRevFull: 100, maxRevFull: 0xffff }, 'major');
  assert.deepEqual(open, { image: 'app', kind: 'full', min: 100, max: undefined });
  assert.equal(revisionRefusal([open], 9999), undefined);
  assert.equal(revisionRefusal([open], 3), 'app needs chip revision v1.0 or later; this chip is v0.3');
});

test('legacy images: no full fields (max 0), or only min_rev set — minor on ESP32-C3, major elsewhere', () => {
  const old = revisionRequirement('boot', { minRev: 1, minRevFull: 0, maxRevFull: 0 }, 'major');
  assert.deepEqual(old, { image: 'boot', kind: 'legacy', min: 1, field: 'major' });
  assert.equal(revisionRefusal([old], 100), undefined);
  assert.match(revisionRefusal([old], 3)!, /major revision 1 or higher; this chip is v0\.3/);
  const c3 = revisionRequirement('boot', { minRev: 3, minRevFull: 0, maxRevFull: 0xffff }, 'minor');
  assert.deepEqual(c3, { image: 'boot', kind: 'legacy', min: 3, field: 'minor' });
  // esptool compares the minor version alone: a v1.0 ESP32-C3 fails a legacy min_rev of 3.
  assert.equal(revisionRefusal([c3], 4), undefined);
  assert.match(revisionRefusal([c3], 100)!, /minor revision 3 or higher; this chip is v1\.0/);
});

test('every image counts: the first one a board fails is named', () => {
  const boot = revisionRequirement('bootloader', { minRev: 0, minRevFull: 0, maxRevFull: 399 }, 'major');
  const app = revisionRequirement('app', { minRev: 3, minRevFull: 300, maxRevFull: 399 }, 'major');
  assert.equal(revisionRefusal([boot, app], 301), undefined);
  assert.match(revisionRefusal([boot, app], 100)!, /^app needs chip revision v3\.0 to v3\.99/);
});
