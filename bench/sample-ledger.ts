/**
 * A deterministic, plausible production ledger for benches and the README screenshot: two stations with eight
 * slots each, one slot with a bad pogo pin, a firmware change halfway, failed boards retested, a few boards that
 * never identify. Not used by tests (they build ledgers with known answers by hand).
 */
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import type { LedgerRecord } from '../src/ledger/record.ts';
import type { FailureCode } from '../src/ledger/failure-codes.ts';

export interface SampleOptions {
  records: number;
  seed?: number;
  start?: Date;
  /** Mark the second recipe as demo firmware. */
  demo?: boolean;
}

const FAULTS: Array<[FailureCode, string, number]> = [
  [
    'no-sync',
    'no reply from the ROM bootloader: check the USB cable and that the board is in download mode',
    5,
  ],
  ['verify-mismatch', 'MD5 of region 0x10000 (app) differs after writing: flash may be faulty', 3],
  ['write-error', 'write failed at 0x10000: the chip stopped answering', 2],
  ['disconnected', 'board unplugged during flashing', 2],
  ['timeout', 'no answer within 3 s while writing; retried at 460800 and 115200', 1],
  ['boot-check-failed', 'no "ready" in the boot output within 5 s', 1],
];

/** The ESP32-WROOM-32 AT v3.4.0.0 flash map (flasher_args.json), so sample records are the real size. */
const REGIONS: Array<[number, string, number]> = [
  [0x1000, 'bootloader', 26768],
  [0x8000, 'partition-table', 3072],
  [0x10000, 'otadata', 8192],
  [0x20000, 'at_customize', 4096],
  [0x21000, 'mfg_nvs', 24576],
  [0x100000, 'app', 1843200],
];

function region(rand: () => number, failed: boolean) {
  return ([offset, label, size]: [number, string, number]) => {
    const md5 = (offset * 2654435761).toString(16).padStart(32, '0').slice(-32);
    return {
      offset,
      label,
      size,
      md5Expected: md5,
      ...(failed ? {} : { md5Chip: md5 }),
      seconds: Math.round((size / 92_000 + rand() * 0.05) * 1000) / 1000,
      retries: rand() < 0.02 ? 1 : 0,
    };
  };
}

function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function macOf(n: number): string {
  const h = (0x30aea4000000 + n).toString(16).toUpperCase().padStart(12, '0');
  return h.match(/../g)!.join(':');
}

export function* sampleRecords(options: SampleOptions): Generator<LedgerRecord> {
  const rand = prng(options.seed ?? 1);
  const t0 = (options.start ?? new Date(Date.UTC(2026, 10, 23, 6, 0, 0))).getTime();
  const stations = ['line1-st1', 'line1-st2'];
  const slotFree: number[] = new Array(16).fill(t0);
  const pending: Array<{ mac: string; attempt: number }> = [];
  let nextBoard = 1;
  for (let n = 0; n < options.records; n++) {
    // The free-est slot takes the next board: a retest if one is waiting, else a fresh board.
    let s = 0;
    for (let k = 1; k < 16; k++) if (slotFree[k] < slotFree[s]) s = k;
    const station = stations[s >> 3];
    const slot = `S${(s & 7) + 1}`;
    const retest = pending.length > 0 && rand() < 0.8 ? pending.shift() : undefined;
    const board = retest ?? { mac: macOf(nextBoard++), attempt: 0 };
    board.attempt++;
    const start = slotFree[s] + 30_000 + rand() * 60_000;
    const late = n > options.records / 2;
    const recipe = late ? 'c3d4'.repeat(16) : 'a1b2'.repeat(16);
    const badSlot = station === 'line1-st2' && slot === 'S5';
    const failRate = (badSlot ? 0.3 : 0.05) + (late ? 0.02 : 0);
    let fault: [FailureCode, string, number] | undefined;
    if (rand() < failRate) {
      let pick = rand() * FAULTS.reduce((a, f) => a + f[2], 0);
      fault = FAULTS.find((f) => (pick -= f[2]) < 0) ?? FAULTS[0];
    }
    const identified = !(fault && fault[0] === 'no-sync' && rand() < 0.5);
    const durationMs = Math.round(
      fault ? 3000 + rand() * 20000 : 11000 + rand() * 3000 + (rand() < 0.05 ? 9000 : 0),
    );
    slotFree[s] = start + durationMs;
    const record: LedgerRecord = {
      v: 1,
      id: `${station}-${Math.round(start)}-${slot}`,
      start: new Date(start).toISOString(),
      end: new Date(start + durationMs).toISOString(),
      station,
      slot,
      portPath: `1-1.${(s & 7) + 1}`,
      port: `/dev/ttyUSB${s & 7}`,
      vidPid: '10c4:ea60',
      operator: s < 8 ? 'ana' : 'ben',
      lot: n < options.records * 0.6 ? 'LOT-2611A' : 'LOT-2611B',
      ...(identified ? { mac: board.mac, chip: 'esp32c3', revision: 4, flashSize: 4194304 } : {}),
      profile: 'at-esp32c3',
      recipe,
      ...(options.demo && late ? { demoFirmware: true } : {}),
      regions: fault ? REGIONS.slice(0, 2).map(region(rand, true)) : REGIONS.map(region(rand, false)),
      baud: 921600,
      phases: {
        connect: 310,
        identify: 42,
        check: 3,
        stub: 120,
        write: durationMs - 1600,
        verify: 760,
        reset: 105,
        bootCheck: 250,
      },
      durationMs,
      result: fault ? 'fail' : 'pass',
      ...(fault ? { code: fault[0], message: fault[1] } : {}),
      attempt: identified ? board.attempt : 1,
    };
    if (fault && identified && board.attempt < 3) pending.push(board);
    yield record;
  }
}

export async function writeSampleLedger(file: string, options: SampleOptions): Promise<void> {
  const out = createWriteStream(file);
  let buf = '';
  for (const r of sampleRecords(options)) {
    buf += `${JSON.stringify(r)}\n`;
    if (buf.length > 1 << 20) {
      if (!out.write(buf)) await once(out, 'drain');
      buf = '';
    }
  }
  out.end(buf);
  await once(out, 'finish');
}
