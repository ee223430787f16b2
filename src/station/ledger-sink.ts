/** What the station needs of the ledger (src/ledger LedgerWriter has this shape). */
import type { LedgerRecord } from '../ledger/record.ts';

export interface LedgerSink {
  /** One write + fsync; resolves only once the record is durable. */
  append(record: LedgerRecord): Promise<void>;
  /** 1 for a MAC this ledger has never seen, 2 for its first retest, ... (counting this session's appends). */
  attemptNumberFor(mac: string): number | Promise<number>;
}
