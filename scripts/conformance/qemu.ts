/**
 * One emulated chip at a time: esp-qemu started on a fresh all-0xFF flash under the machine-wide lock, for
 * `npm run conformance` and the bench's QEMU breakdown.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const QEMU_DIR = path.resolve(process.env.ESP_QEMU_DIR ?? path.join(REPO, '../shared/tools/esp-qemu'));
const LOCK = process.env.ESP_QEMU_LOCK ?? path.join(os.tmpdir(), 'esp-qemu.lock');
export const QEMU_FLASH_BYTES = 4 * 1024 * 1024;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

async function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const c = net.connect({ host: '127.0.0.1', port });
    c.once('connect', () => {
      c.destroy();
      resolve(true);
    });
    c.once('error', () => resolve(false));
  });
}

const MACHINES: Record<string, { binary: string; gpio: string; downloadStrap: string }> = {
  esp32: { binary: 'qemu-system-xtensa', gpio: 'esp32.gpio', downloadStrap: '0x0f' },
  esp32c3: { binary: 'qemu-system-riscv32', gpio: 'esp32c3.gpio', downloadStrap: '0x02' },
};

/**
 * esp-qemu's own command line (its script), with one change: UART0's TCP socket without Nagle's algorithm.
 * QEMU's UART model sends a reply one byte per write; with Nagle on, every byte after the first waits for the
 * host's delayed ACK, so each request/reply took ~44 ms under QEMU for every host (3 ms with `nodelay`, measured
 * with READ_REG on the ESP32-C3) — an emulator artefact no USB bridge has, which buried the tools' differences.
 */
function qemuCommand(chip: string, flashFile: string, port: number): string[] {
  const m = MACHINES[chip];
  if (!m) throw new Error(`esp-qemu: no machine for ${chip}`);
  return [
    path.join(QEMU_DIR, 'bin', m.binary),
    ...['-machine', chip, '-display', 'none', '-monitor', 'none', '-L', path.join(QEMU_DIR, 'rom')],
    ...['-drive', `file=${flashFile},if=mtd,format=raw`],
    ...['-serial', `tcp:127.0.0.1:${port},server=on,wait=off,nodelay=on`],
    ...['-global', `driver=${m.gpio},property=strap_mode,value=${m.downloadStrap}`],
  ];
}

function emulatorPid(lockHolder: number): number | undefined {
  try {
    const first = readFileSync(`/proc/${lockHolder}/task/${lockHolder}/children`, 'utf8')
      .trim()
      .split(/\s+/)[0];
    return first ? Number(first) : undefined;
  } catch {
    return undefined;
  }
}

/** Starts the emulator (waiting for the machine-wide lock) on a fresh all-0xFF flash; resolves once it listens. */
export async function startQemu(
  chip: string,
  flashFile: string,
): Promise<{ port: number; stop(): Promise<void> }> {
  await writeFile(flashFile, Buffer.alloc(QEMU_FLASH_BYTES, 0xff));
  const port = await freePort();
  const child = spawn('flock', [LOCK, ...qemuCommand(chip, flashFile, port)], {
    stdio: ['ignore', 'ignore', 'pipe'],
    detached: true,
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let gone = false;
  void exited.then(() => (gone = true));
  // The emulator is flock's child. Ending it (not the whole group) lets flock wait for it and exit in turn, so
  // the emulator's CPU time reaches this process's own figures (the conformance run's CPU account needs them).
  const stop = async (): Promise<void> => {
    if (!gone) {
      const emulator = emulatorPid(child.pid!);
      if (emulator !== undefined) process.kill(emulator, 'SIGTERM');
      else process.kill(-child.pid!, 'SIGTERM');
    }
    await exited;
  };
  // The lock may be held by another emulator on this machine for a while.
  for (let waited = 0; !(await portOpen(port)); waited += 100) {
    if (gone) throw new Error(`esp-qemu ${chip} ended: ${stderr.trim()}`);
    if (waited > 15 * 60_000) {
      await stop();
      throw new Error(`esp-qemu ${chip} did not listen on ${port} within 15 minutes`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { port, stop };
}
