/**
 * One attempt as a ledger record: the mapping from what the pipeline reports (AttemptOutcome) and where it
 * happened (slot, station, operator, lot) to the record schema (src/ledger/record.ts).
 */
import type { LedgerRecord } from '../ledger/record.ts';
import type { SlotInfo } from './events.ts';
import type { AttemptOutcome } from './pipeline.ts';

export interface RecordContext {
  stationName: string;
  operator: string;
  lot: string;
  /** The recipe the board got (StationFirmware's identity fields). */
  firmware: { profileName: string; fingerprint: string; demo: boolean };
}

export function attemptRecord(ctx: RecordContext, info: SlotInfo, o: AttemptOutcome): LedgerRecord {
  const fw = ctx.firmware;
  const b = o.board;
  const startIso = new Date(o.start).toISOString();
  return {
    v: 1,
    id: `${ctx.stationName}/${startIso}/${info.portPath}`,
    start: startIso,
    end: new Date(o.end).toISOString(),
    station: ctx.stationName,
    slot: info.name,
    portPath: info.portPath,
    port: info.tty,
    ...(info.usbSerial !== undefined && { usbSerial: info.usbSerial }),
    ...(info.vid && { vidPid: `${info.vid}:${info.pid}` }),
    operator: ctx.operator,
    lot: ctx.lot,
    ...(b && {
      mac: b.mac,
      chip: b.chip,
      revision: b.revision,
      ...(b.flashId !== undefined && { flashId: b.flashId }),
      ...(b.flashSizeBytes !== undefined && { flashSize: b.flashSizeBytes }),
      secureBoot: b.secureBoot,
      flashEncryption: b.flashEncryption,
    }),
    profile: fw.profileName,
    recipe: fw.fingerprint,
    ...(fw.demo && { demoFirmware: true }),
    regions: o.regions,
    ...(o.baud !== undefined && { baud: o.baud }),
    phases: Object.fromEntries(Object.entries(o.phases).map(([k, v]) => [k, Math.max(0, Math.round(v))])),
    durationMs: Math.max(0, o.end - o.start),
    result: o.result,
    ...(o.code !== undefined && { code: o.code }),
    ...(o.message !== undefined && { message: o.message }),
    ...(o.test && { test: o.test }),
    ...(o.identity && { identity: o.identity }),
    attempt: o.attempt,
  };
}
