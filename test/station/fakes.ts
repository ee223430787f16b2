/**
 * Small scripted stand-ins for the flasher link, the device source and the ledger, so the pipeline's and the
 * station's own logic (states, guards, retries, pool, ledger-before-display) is tested on its own. The
 * end-to-end test (test/e2e) runs the real pieces.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { ChipIdentity, FlashIdentity } from '../../src/esp/loader.ts';
import { chipDisplayName } from '../../src/station/board-format.ts';
import type {
  BoardIdentity,
  BoardLink,
  BoardSession,
  ImageRegion,
  RegionOutcome,
} from '../../src/station/board-link.ts';
import type { BridgeDevice, DeviceListener, DeviceSource } from '../../src/station/detect/bridge-device.ts';
import type { SlotInfo } from '../../src/station/events.ts';
import type { LedgerRecord } from '../../src/ledger/record.ts';
import type { LedgerSink } from '../../src/station/ledger-sink.ts';
import type { StationFirmware } from '../../src/station/station.ts';
import { md5hex } from '../support/md5.ts';

export class KindError extends Error {
  constructor(
    readonly kind: string,
    message: string,
  ) {
    super(message);
  }
}

export interface FakeBoardScript {
  identity?: Partial<BoardIdentity>;
  /** Connect attempts (0-based) that fail with this kind. */
  connectFails?: Record<number, string>;
  /** The connect (the reset into download mode) takes this long, so a test can re-enumerate the board meanwhile. */
  connectDelayMs?: number;
  /** Writes fail with 'write-error' for these bauds (every time), or a number of times in total. */
  failWritesAtBaud?: number[];
  failWritesTimes?: number;
  /** Each write waits this long per region (abortable) so tests can unplug mid-write. */
  writeDelayMs?: number;
  /** Never finish a write (ignores nothing: it waits for the abort). */
  hangOnWrite?: boolean;
  /** Never finish a write and ignore the abort too (a wedged flasher). */
  wedgeOnWrite?: boolean;
  bootOutput?: string;
  /** Switching to these bauds times out (a bridge that cannot hold the rate). */
  failBaudSwitchAt?: number[];
  /** Flash MD5 read back differs from the image for this offset. */
  corruptOffset?: number;
}

function pickFlash(id: Partial<BoardIdentity> | undefined): Partial<FlashIdentity> {
  if (!id) return {};
  return {
    ...('flashId' in id && { flashId: id.flashId }),
    ...('flashSizeBytes' in id && { flashSizeBytes: id.flashSizeBytes }),
  };
}

export function makeFirmware(sizes: number[] = [0x1000, 0x3000]): StationFirmware {
  let offset = 0x1000;
  const regions: ImageRegion[] = sizes.map((n, i) => {
    const data = new Uint8Array(n).map((_, j) => (j * 7 + i) & 0xff);
    const r = { offset, label: `r${i}`, data, md5: md5hex(data) };
    offset += Math.ceil(n / 0x1000) * 0x1000 + 0x1000;
    return r;
  });
  return {
    chip: 'esp32',
    requiredFlashBytes: offset,
    regions,
    regionsFor: () => regions,
    fingerprint: 'f'.repeat(64),
    demo: true,
    profileName: 'test-profile',
  };
}

export class FakeLink implements BoardLink {
  readonly scripts = new Map<string, FakeBoardScript>();
  readonly writes: { portPath: string; offset: number; baud: number }[] = [];
  readonly connects: { portPath: string; attempt: number }[] = [];
  /** What each prepareWrites asked for (the flash size goes to SPI_SET_PARAMS). */
  readonly prepared: { portPath: string; baud: number; flashSizeBytes: number; stub: boolean }[] = [];
  /** Whole-chip erases and hard resets, by portPath, in order. */
  readonly erases: string[] = [];
  readonly resets: string[] = [];
  /** What each board's flash holds, by portPath and offset. */
  readonly flash = new Map<string, Map<number, string>>();
  private failCount = new Map<string, number>();

  script(portPath: string, s: FakeBoardScript): void {
    this.scripts.set(portPath, s);
  }

  connectStrategies(): number {
    return 2;
  }

  async connect(slot: SlotInfo, opts: { attempt: number; signal: AbortSignal }): Promise<BoardSession> {
    opts.signal.throwIfAborted();
    this.connects.push({ portPath: slot.portPath, attempt: opts.attempt });
    const s = this.scripts.get(slot.portPath) ?? {};
    const fail = s.connectFails?.[opts.attempt];
    if (fail) throw new KindError(fail, `connect failed (${fail})`);
    await sleep(s.connectDelayMs ?? 1);
    opts.signal.throwIfAborted();
    const writes = this.writes;
    const failCount = this.failCount;
    const { prepared, erases, resets } = this;
    let baud = 115200;
    const flash = this.flash.get(slot.portPath) ?? new Map<number, string>();
    this.flash.set(slot.portPath, flash);
    let bootOutput = '';
    return {
      get baud() {
        return baud;
      },
      canReset: true,
      async identify(): Promise<ChipIdentity> {
        const chip = s.identity?.chip ?? 'esp32';
        return {
          chip,
          displayName: chipDisplayName(chip),
          revision: s.identity?.revision ?? 300,
          mac:
            s.identity?.mac ??
            `24:0A:C4:00:00:${slot.portPath.replace(/\D/g, '').padStart(2, '0').slice(-2)}`,
          secureBoot: s.identity?.secureBoot ?? false,
          flashEncryption: s.identity?.flashEncryption ?? false,
          secureDownloadMode: false,
        };
      },
      async detectFlash(): Promise<FlashIdentity> {
        return { flashId: 0x1640ef, flashSizeBytes: 4 * 1024 * 1024, ...pickFlash(s.identity) };
      },
      async setFlashSize(bytes): Promise<void> {
        prepared[prepared.length - 1]!.flashSizeBytes = bytes;
      },
      async prepareWrites(o): Promise<number> {
        prepared.push({ portPath: slot.portPath, baud: o.baud, flashSizeBytes: 0, stub: o.stub });
        if (s.failBaudSwitchAt?.includes(o.baud))
          throw new KindError('timeout', `no reply at ${o.baud} baud`);
        baud = o.baud;
        return baud;
      },
      async eraseFlash(): Promise<void> {
        erases.push(slot.portPath);
        flash.clear();
      },
      async writeRegion(region, o): Promise<RegionOutcome> {
        writes.push({ portPath: slot.portPath, offset: region.offset, baud });
        const t0 = Date.now();
        if (s.wedgeOnWrite) await new Promise(() => undefined);
        if (s.hangOnWrite) {
          await new Promise((_, reject) =>
            o.signal.addEventListener('abort', () => reject(new KindError('aborted', 'aborted')), {
              once: true,
            }),
          );
        }
        const steps = 4;
        for (let i = 1; i <= steps; i++) {
          if (s.writeDelayMs) {
            await sleep(s.writeDelayMs / steps, undefined, { signal: o.signal }).catch(() => {
              throw new KindError('aborted', 'aborted');
            });
          }
          o.onProgress({ done: (region.data.length * i) / steps, total: region.data.length });
        }
        if (s.failWritesAtBaud?.includes(baud))
          throw new KindError('write-error', `flash write failed at ${baud}`);
        const n = failCount.get(slot.portPath) ?? 0;
        if (n < (s.failWritesTimes ?? 0)) {
          failCount.set(slot.portPath, n + 1);
          throw new KindError('verify-mismatch', 'md5 mismatch');
        }
        const chipMd5 = s.corruptOffset === region.offset ? '0'.repeat(32) : region.md5;
        flash.set(region.offset, chipMd5);
        return {
          offset: region.offset,
          label: region.label,
          size: region.data.length,
          md5Expected: region.md5,
          md5Chip: region.md5,
          seconds: (Date.now() - t0) / 1000,
          retries: 0,
          skipped: false,
          compressed: true,
        };
      },
      async flashMd5(offset): Promise<string> {
        return flash.get(offset) ?? 'f'.repeat(32);
      },
      get bootOutput() {
        return bootOutput;
      },
      onBootOutput: () => () => undefined,
      async hardReset(): Promise<void> {
        resets.push(slot.portPath);
        bootOutput = s.bootOutput ?? 'I (1231) boot: Loaded app from partition at offset 0x100000\n';
      },
      async close(): Promise<void> {},
    };
  }
}

export class ManualSource implements DeviceSource {
  readonly mode = 'simulated' as const;
  listener: DeviceListener | undefined;
  present: BridgeDevice[] = [];
  async start(listener: DeviceListener, opts: { offerPresent: boolean }): Promise<void> {
    this.listener = listener;
    if (opts.offerPresent) for (const d of this.present) listener.attach(d);
  }
  async stop(): Promise<void> {
    this.listener = undefined;
  }
  plug(portPath: string, tty = `/dev/tty-${portPath}`, over: Partial<BridgeDevice> = {}): void {
    this.listener?.attach({ portPath, tty, vid: '10c4', pid: 'ea60', ...over });
  }
  unplug(portPath: string): void {
    this.listener?.detach(portPath);
  }
}

export class MemoryLedger implements LedgerSink {
  readonly records: LedgerRecord[] = [];
  failNext = false;
  /** Called inside append, before it resolves: lets a test check nothing was shown yet. */
  onAppend?: (r: LedgerRecord) => void;
  async append(r: LedgerRecord): Promise<void> {
    await sleep(2);
    if (this.failNext) {
      this.failNext = false;
      throw new Error('disk full');
    }
    this.onAppend?.(r);
    this.records.push(r);
  }
  attemptNumberFor(mac: string): number {
    return this.records.filter((r) => r.mac === mac).length + 1;
  }
}
