/**
 * Where one board's time goes, read from the pipeline's own events (the seam every screen and the ledger use):
 * the attempt's phases, the stub upload and the baud switch split by the link's log lines ('stub running',
 * 'baud rate'), and per region the time to its first acknowledged block (FLASH_DEFL_BEGIN, blank-sector
 * checks, block 0), the blocks after it (one progress event per acknowledged block when the interval is 0) and
 * what follows the last block (FLASH_DEFL_END and the region's MD5).
 */
import type { AttemptOutcome, PipelineEvent } from '../src/station/pipeline.ts';

export interface StampedEvent {
  /** ms, on the same clock as the outcome's start and end. */
  t: number;
  e: PipelineEvent;
}

export interface RegionBreakdown {
  label: string;
  offset: number;
  bytes: number;
  /** Region start → first block acknowledged: BEGIN, blank-sector MD5 checks, block 0. */
  firstBlockMs: number;
  /** Blocks acknowledged after the first. */
  blocks: number;
  /** First → last acknowledged block. */
  blocksMs: number;
  /** Median ms between two acknowledged blocks. */
  medianBlockMs: number;
  /** Last block → region verified: FLASH_DEFL_END and the region's MD5. */
  endMs: number;
  totalMs: number;
}

export interface Breakdown {
  totalMs: number;
  /** Reset, sync, chip detection; identify; the checks (incl. the flash id read through the stub). */
  connectMs: number;
  identifyMs: number;
  checkMs: number;
  stubUploadMs: number;
  baudSwitchMs: number;
  regions: RegionBreakdown[];
  /** What no phase covers: SPI_SET_PARAMS, the host between phases. */
  otherMs: number;
  verifyMs: number;
  resetMs: number;
  /** esptool-js only: deflating each region just before writing it (inside otherMs; the station does it once per recipe). */
  hostCompressMs?: number;
}

const median = (xs: number[]): number => {
  if (xs.length === 0) return 0;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
};

export function breakdown(events: readonly StampedEvent[], outcome: AttemptOutcome): Breakdown {
  const p = outcome.phases;
  const logAt = (text: string) =>
    events.find((x) => x.e.type === 'log' && x.e.message.includes(text))?.t ?? Number.NaN;
  const stubRunning = logAt('[esp] stub running');
  const baudSet = logAt('[esp] baud rate');
  const baudSwitchMs = Number.isFinite(stubRunning) && Number.isFinite(baudSet) ? baudSet - stubRunning : 0;

  const regions: RegionBreakdown[] = [];
  let start: number | undefined;
  let acks: number[] = [];
  for (const { t, e } of events) {
    if (e.type === 'state' && e.state === 'flashing' && e.message?.includes(' @0x')) {
      start = t;
      acks = [];
    } else if (e.type === 'progress' && start !== undefined) {
      acks.push(t);
    } else if (e.type === 'region' && start !== undefined) {
      const first = acks[0] ?? t;
      const last = acks[acks.length - 1] ?? t;
      regions.push({
        label: e.region.label,
        offset: e.region.offset,
        bytes: e.region.size,
        firstBlockMs: first - start,
        blocks: Math.max(0, acks.length - 1),
        blocksMs: last - first,
        medianBlockMs: median(acks.slice(1).map((x, i) => x - acks[i])),
        endMs: t - last,
        totalMs: t - start,
      });
      start = undefined;
    }
  }
  const regionMs = regions.reduce((n, r) => n + r.totalMs, 0);
  const totalMs = outcome.end - outcome.start;
  const phaseMs = Object.values(p).reduce((n, x) => n + x, 0);
  return {
    totalMs,
    connectMs: p.connect ?? 0,
    identifyMs: p.identify ?? 0,
    checkMs: p.check ?? 0,
    stubUploadMs: (p.stub ?? 0) - baudSwitchMs,
    baudSwitchMs,
    regions,
    otherMs: totalMs - phaseMs + Math.max(0, (p.write ?? 0) - regionMs),
    verifyMs: p.verify ?? 0,
    resetMs: (p.reset ?? 0) + (p.bootCheck ?? 0),
  };
}
