import { test } from 'node:test';
import assert from 'node:assert/strict';
import { messageTemplate } from '../../src/report/message-template.ts';

test('per-board details become placeholders; the sentence and chip names stay', () => {
  const a =
    "The flash content did not match the image after writing (MD5 differs). (bootloader @0x1000: flash MD5 5023e052898e32ac812aecbafbae1519 does not match the image's ef1ed47944f473685d438af60a77f338)";
  const b =
    "The flash content did not match the image after writing (MD5 differs). (app @0x100000: flash MD5 0123456789abcdef0123456789abcdef does not match the image's fedcba9876543210fedcba9876543210)";
  assert.notEqual(messageTemplate(a), messageTemplate(a.replace('bootloader', 'app')));
  assert.equal(messageTemplate(a.replace('bootloader', 'app')), messageTemplate(b));
  assert.match(messageTemplate(a), /flash MD5 ‹md5› does not match the image's ‹md5›/);
  assert.equal(
    messageTemplate('This board is an ESP32-S3; the profile flashes ESP32. Set it aside.'),
    'This board is an ESP32-S3; the profile flashes ESP32. Set it aside.',
  );
  assert.equal(
    messageTemplate('This board has 2 MB of flash; the image set needs 4 MB.'),
    'This board has ‹n› MB of flash; the image set needs ‹n› MB.',
  );
  assert.equal(
    messageTemplate(
      "After the reset the firmware did not print 'ready' within 3.0 s (last output: rst:0x1 boot:0x13 | ets Jun 8). Retest once.",
    ),
    "After the reset the firmware did not print 'ready' within ‹n› s (last output: …). Retest once.",
  );
  assert.equal(messageTemplate('board 24:0A:C4:00:00:01 on /dev/ttyUSB3'), 'board ‹mac› on ‹tty›');
});
