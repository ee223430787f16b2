/**
 * Runs inside `unshare -m -n` with a fake sysfs bound over /sys: the REAL HotplugDeviceSource (the `usb` package,
 * nusb's udev netlink listener, our sysfs walk) reporting to stdout as JSON lines. Reads commands from stdin:
 * {"uevent": ["ACTION=add", ...]} sends one libudev-format message through send-uevent.py (same namespaces).
 */
import { execFile } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { HotplugDeviceSource } from '../../src/station/detect/hotplug-source.ts';
import { VidPidFilter } from '../../src/station/detect/vid-pid-filter.ts';

const sender = fileURLToPath(new URL('./send-uevent.py', import.meta.url));
const out = (o: unknown): void => void process.stdout.write(`${JSON.stringify(o)}\n`);

const source = new HotplugDeviceSource({
  filter: new VidPidFilter(['10c4:ea60', '1a86:7523', '0403:6010', '303a:1001']),
  sysRoot: '/sys',
  ttyPollMs: 20,
  ttyWaitMs: 5000,
});
await source.start(
  {
    attach: (device) => out({ ev: 'attach', device }),
    detach: (portPath) => out({ ev: 'detach', portPath }),
    warn: (message) => out({ ev: 'warn', message }),
  },
  { offerPresent: true },
);
out({ ev: 'ready', mode: source.mode });

const rl = createInterface({ input: process.stdin });
rl.on('line', (line) => {
  const cmd = JSON.parse(line) as { uevent?: string[]; quit?: boolean };
  if (cmd.quit) {
    void source.stop().then(() => process.exit(0));
    return;
  }
  if (cmd.uevent) {
    execFile('python3', [sender, ...cmd.uevent], (err, _o, stderr) =>
      out(err ? { ev: 'send-failed', message: `${err.message} ${stderr}` } : { ev: 'sent' }),
    );
  }
});
rl.on('close', () => void source.stop().then(() => process.exit(0)));
