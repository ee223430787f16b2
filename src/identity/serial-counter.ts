/**
 * Serial numbers of one lot: which `{seq}` comes next, which went back to the pool (reused lowest first, so a
 * failed board leaves no gap), and how many are left. A pattern without `{seq}` derives the serial from the
 * MAC alone and has no limit.
 */
import type { AllocationBook } from './allocation-book.ts';
import { IdentityError } from './errors.ts';
import { largestSeq, renderSerial } from './serial-pattern.ts';
import type { SerialSettings } from './settings.ts';

export class SerialCounter {
  /** Released numbers of this lot below the next fresh one, lowest first. */
  private freeSeqs: number[] = [];
  private nextSeq: number;

  constructor(
    private readonly settings: SerialSettings,
    private readonly lot: string,
    private readonly book: AllocationBook,
  ) {
    this.nextSeq = settings.start;
    this.rebuild();
  }

  private get counted(): boolean {
    return this.settings.pattern.seqWidth !== undefined;
  }

  /** The last `{seq}` the pool may issue; undefined when unbounded. */
  get end(): number | undefined {
    return this.settings.end ?? largestSeq(this.settings.pattern);
  }

  /** The serial for a new board, or undefined when the range is used up. */
  pick(mac: string): { text: string; seq?: number } | undefined {
    const s = this.settings;
    const render = (seq?: number) => renderSerial(s.pattern, { prefix: s.prefix, lot: this.lot, seq, mac });
    if (!this.counted) {
      const text = render();
      const holder = this.book.serialHolder(text);
      if (holder) {
        throw new IdentityError(
          'setup',
          `serial ${text} is already issued to MAC ${holder.mac}; the pattern '${s.pattern.source}' does not tell these boards apart — use more MAC digits or {seq}`,
        );
      }
      return { text };
    }
    // A number whose text another board holds (another lot with a pattern without {lot}) is skipped.
    for (const seq of this.freeSeqs) {
      const text = render(seq);
      if (!this.book.serialHolder(text)) return { text, seq };
    }
    const end = this.end;
    for (let seq = this.nextSeq; end === undefined || seq <= end; seq++) {
      const text = render(seq);
      if (!this.book.serialHolder(text)) return { text, seq };
    }
    return undefined;
  }

  take(seq: number): void {
    this.freeSeqs = this.freeSeqs.filter((s) => s !== seq);
    if (seq >= this.nextSeq) this.nextSeq = seq + 1;
  }

  /** Recomputed from the book (at start, and when an identity goes back to the pool). */
  rebuild(): void {
    if (!this.counted) return;
    const live = new Set<number>();
    for (const a of this.book.liveAllocations())
      if (a.lot === this.lot && a.seq !== undefined) live.add(a.seq);
    const ever = new Set<number>();
    let highest = this.settings.start - 1;
    for (const a of this.book.all()) {
      if (a.lot === this.lot && a.seq !== undefined) {
        ever.add(a.seq);
        highest = Math.max(highest, a.seq);
      }
    }
    this.nextSeq = highest + 1;
    this.freeSeqs = [...ever].filter((q) => !live.has(q) && q >= this.settings.start).sort((a, b) => a - b);
  }

  /** Numbers in the range, and those not held by a board; undefined when unbounded. */
  counts(): { total: number; free: number } | undefined {
    const end = this.end;
    if (!this.counted || end === undefined) return undefined;
    const { start } = this.settings;
    const held = this.book
      .liveAllocations()
      .filter((a) => a.lot === this.lot && a.seq !== undefined && a.seq >= start && a.seq <= end).length;
    const total = end - start + 1;
    return { total, free: Math.max(0, total - held) };
  }

  describe(): string {
    return `serial number (${this.settings.start}..${this.end} used in lot ${this.lot || '(none)'})`;
  }
}
