/**
 * Wires the central database into `run`: when config.yaml has a `central:` section, a shipper follows the
 * station's ledger, each append nudges it (the append itself never waits for the database), and its link
 * state and lag become station events (screen header, headless output). Without the section, nothing runs.
 */
import { createRequire } from 'node:module';
import { hostname } from 'node:os';
import { Outbox } from '../central/outbox.ts';
import type { OutboxLedger } from '../central/outbox.ts';
import { CentralShipper } from '../central/shipper.ts';
import type { StationConfig } from '../config/station-config.ts';
import type { LedgerRecord } from '../ledger/record.ts';
import type { StationEventBus } from '../station/events.ts';
import type { LedgerSink } from '../station/ledger-sink.ts';

export const ESP_STATION_VERSION = (
  createRequire(import.meta.url)('../../package.json') as { version: string }
).version;

/** How long quitting waits for a database that is offline at that moment. */
const OFFLINE_DRAIN_SECONDS = 5;

export interface CentralShipping {
  /** The ledger as the station sees it: each append, once durable, wakes the shipper. */
  sink(ledger: LedgerSink): LedgerSink;
  /** Starts shipping, publishing link state, lag and notices on the station's bus. */
  start(bus: StationEventBus): void;
  /**
   * Waits (up to central.drainSeconds) for the backlog to reach the database, then stops shipping. The
   * backlog that remains is shipped by the next run; returns how many records still wait.
   */
  finish(): Promise<{ drained: boolean; lagRecords: number }>;
}

export async function startCentralShipping(opts: {
  config: StationConfig;
  /** The ledger the station writes: its directory, or the one file given with --ledger. */
  ledger: OutboxLedger;
  profile: string;
  recipe: string;
}): Promise<CentralShipping | undefined> {
  const central = opts.config.central;
  if (!central) return undefined;
  let bus: StationEventBus | undefined;
  // Notices from opening the outbox come before the station (and its bus) exist: kept until start().
  const early: Array<() => void> = [];
  const log = (level: 'info' | 'warn' | 'error', message: string) => {
    const publish = () => bus?.publish({ type: 'log', time: Date.now(), slot: '', level, message });
    if (bus) publish();
    else early.push(publish);
  };
  const outbox = await Outbox.open({ ledger: opts.ledger, onNotice: (m) => log('warn', `central: ${m}`) });
  const { drainSeconds, ...target } = central;
  const shipper = new CentralShipper({
    target,
    outbox,
    station: {
      name: opts.config.station,
      host: hostname(),
      version: ESP_STATION_VERSION,
      profile: opts.profile,
      recipe: opts.recipe,
    },
    onStatus: (s) =>
      bus?.publish({
        type: 'central',
        time: Date.now(),
        slot: '',
        link: s.link,
        lagRecords: s.lagRecords,
        lagSeconds: s.lagSeconds,
        database: s.database,
        ...(s.message !== undefined && { message: s.message }),
      }),
    onNotice: log,
  });
  return {
    start(stationBus) {
      bus = stationBus;
      for (const publish of early.splice(0)) publish();
      shipper.start();
    },
    sink: (ledger) => ({
      append: async (record: LedgerRecord) => {
        await ledger.append(record);
        shipper.nudge();
      },
      attemptNumberFor: (mac: string) => ledger.attemptNumberFor(mac),
    }),
    async finish() {
      const waiting = shipper.status;
      if (waiting.lagRecords > 0) {
        console.error(
          `esp-station run: shipping ${waiting.lagRecords} record(s) to the central database (up to ${drainSeconds} s)`,
        );
      }
      // A database that is away now is unlikely to return within the wait: try briefly, keep the backlog.
      const seconds =
        waiting.link === 'offline' ? Math.min(drainSeconds, OFFLINE_DRAIN_SECONDS) : drainSeconds;
      const drained = await shipper.drain(seconds * 1000);
      const lagRecords = shipper.status.lagRecords;
      await shipper.stop();
      return { drained, lagRecords };
    },
  };
}
