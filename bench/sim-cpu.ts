/**
 * CPU cost of simulated boards: 32 ESP32 boards in `realistic` timing, first idle in download mode, then each
 * streaming compressed flash writes to its stub at 921600 baud. The boards are served over TCP by this
 * process (the one measured, with process.cpuUsage over a window); the hosts that drive them run in a child
 * process, so their cost is not counted. Prints CPU time / wall time as a share of one core (target < 10 %).
 * Not part of npm test. Run: node --import tsx bench/sim-cpu.ts [--boards 32] [--seconds 5]
 */
import { spawn } from 'node:child_process';
import { connect, type Socket } from 'node:net';
import { deflateSync } from 'node:zlib';
import { SimBoard } from '../src/sim/board.ts';
import { SlipDecoder, slipEncode } from '../src/sim/slip.ts';
import { startSimServers } from '../src/sim/tcp-server.ts';
import { loadStubJson } from '../test/support/raw-sim-client.ts';

const arg = (name: string, dflt: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : dflt;
};
const BAUD = 921600;

// ---- the driver (child process): one host per board over socket:// -------------------------------------

class TcpHost {
  private frames: Buffer[] = [];
  private wake: (() => void) | undefined;
  private readonly socket: Socket;
  private readonly decoder = new SlipDecoder((f) => {
    this.frames.push(f);
    this.wake?.();
  });

  constructor(port: number) {
    this.socket = connect(port, '127.0.0.1');
    this.socket.setNoDelay(true);
    this.socket.on('data', (d: Buffer) => this.decoder.push(d));
  }

  async command(op: number, data: Buffer, chk = 0): Promise<Buffer> {
    this.frames = [];
    const pkt = Buffer.alloc(8 + data.length);
    pkt[1] = op;
    pkt.writeUInt16LE(data.length, 2);
    pkt.writeUInt32LE(chk, 4);
    data.copy(pkt, 8);
    this.socket.write(slipEncode(pkt));
    for (;;) {
      const f = this.frames.find((x) => x[0] === 1 && x[1] === op);
      if (f) return f;
      await new Promise<void>((r) => (this.wake = r));
    }
  }

  async waitFrame(text: string): Promise<void> {
    while (!this.frames.some((f) => f.toString('latin1') === text))
      await new Promise<void>((r) => (this.wake = r));
  }
}

const u32 = (...v: number[]) => Buffer.from(new Uint32Array(v).buffer);
const xor = (d: Buffer) => d.reduce((c, b) => c ^ b, 0xef);

async function drive(ports: number[]): Promise<void> {
  const image = firmwareLike(1024 * 1024);
  const z = deflateSync(image, { level: 9 });
  const stub = loadStubJson('esp32');
  const hosts = ports.map((p) => new TcpHost(p));
  await Promise.all(
    hosts.map(async (h) => {
      for (const [b64, addr] of [
        [stub.text, stub.text_start],
        [stub.data!, stub.data_start!],
      ] as const) {
        const bytes = Buffer.from(b64, 'base64');
        await h.command(0x05, u32(bytes.length, Math.ceil(bytes.length / 0x1800), 0x1800, addr));
        for (let seq = 0; seq * 0x1800 < bytes.length; seq++) {
          const chunk = bytes.subarray(seq * 0x1800, (seq + 1) * 0x1800);
          await h.command(0x07, Buffer.concat([u32(chunk.length, seq, 0, 0), chunk]), xor(chunk));
        }
      }
      await h.command(0x06, u32(0, stub.entry));
      await h.waitFrame('OHAI');
      await h.command(0x0f, u32(BAUD, 115200));
    }),
  );
  console.log('streaming');
  const blocks = Math.ceil(z.length / 0x4000);
  const chunks = Array.from({ length: blocks }, (_, seq) => {
    const c = z.subarray(seq * 0x4000, (seq + 1) * 0x4000);
    return { data: Buffer.concat([u32(c.length, seq, 0, 0), c]), chk: xor(c) };
  });
  await Promise.all(
    hosts.map(async (h) => {
      for (;;) {
        await h.command(0x10, u32(image.length, blocks, 0x4000, 0x100000, 0));
        for (const c of chunks) await h.command(0x11, c.data, c.chk);
      }
    }),
  );
}

/** Firmware-like data: runs of repeated words mixed with noise, compressing to about 3/4 like an app image. */
function firmwareLike(size: number): Buffer {
  const out = Buffer.alloc(size);
  let x = 12345;
  for (let i = 0; i < size; i += 4) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    out.writeUInt32LE(x & 0x80000000 ? x : 0x40080000 + (i & 0xfff0), i);
  }
  return out;
}

// ---- the measured process: the boards ---------------------------------------------------------------------

async function measure(label: string, seconds: number): Promise<number> {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, seconds * 1000));
  const c = process.cpuUsage(c0);
  const wall = performance.now() - t0;
  const ratio = (c.user + c.system) / 1000 / wall;
  console.log(
    `${label.padEnd(40)} ${(ratio * 100).toFixed(1).padStart(5)} % of one core over ${(wall / 1000).toFixed(1)} s` +
      ` (user ${(c.user / 1000).toFixed(0)} ms, system ${(c.system / 1000).toFixed(0)} ms)`,
  );
  return ratio;
}

async function main(): Promise<void> {
  const count = Number(arg('boards', '32'));
  const seconds = Number(arg('seconds', '5'));
  console.log(`${count} simulated ESP32 boards, realistic timing, served over TCP; Node ${process.version}`);
  const boards = Array.from({ length: count }, () => new SimBoard({ chip: 'esp32', timing: 'realistic' }));
  const servers = await startSimServers({ boards });
  const idle = await measure(`${count} boards idle in download mode`, seconds);

  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'bench/sim-cpu.ts', '--driver', servers.map((s) => s.port).join(',')],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => d.toString().includes('streaming') && resolve());
    child.once('exit', (code) => reject(new Error(`driver exited with ${code}`)));
  });
  const before = boards.reduce((a, b) => a + b.stats.toChip, 0);
  // Let every board get past its first erase before measuring.
  await new Promise((r) => setTimeout(r, 1000));
  const t0 = performance.now();
  const busy = await measure(`${count} boards streaming at ${BAUD} baud`, seconds);
  const moved = boards.reduce((a, b) => a + b.stats.toChip, 0) - before;
  const secs = (performance.now() - t0 + 1000) / 1000;
  child.kill('SIGTERM');
  console.log(
    `wire bytes into the boards: ${(moved / 1048576).toFixed(1)} MiB in ${secs.toFixed(1)} s ` +
      `= ${((moved * 10) / secs / count).toFixed(0)} bit/s per board (wire max ${BAUD})`,
  );
  console.log(
    `heap used: ${(process.memoryUsage().heapUsed / 1048576).toFixed(0)} MiB, flash held by all boards: ` +
      `${(boards.reduce((a, b) => a + b.flash.allocatedBytes, 0) / 1048576).toFixed(0)} MiB`,
  );
  console.log(
    `target < 10 % of one core: idle ${idle < 0.1 ? 'met' : 'MISSED'}, streaming ${busy < 0.1 ? 'met' : 'MISSED'}`,
  );
  await Promise.all(servers.map((s) => s.close()));
}

if (process.argv.includes('--driver')) {
  await drive(arg('driver', '').split(',').map(Number));
} else {
  await main();
}
