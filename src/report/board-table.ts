/** Per-board state of the yield aggregation: compact parallel typed arrays keyed by MAC, and string interning. */

/** Strings that repeat across many boards (recipes, lots, slots, codes) are stored once and referred to by index. */
export class Interner {
  private readonly ids = new Map<string, number>();
  readonly values: string[] = [];
  id(value: string): number {
    let id = this.ids.get(value);
    if (id === undefined) {
      id = this.values.length;
      this.ids.set(value, id);
      this.values.push(value);
    }
    return id;
  }
}

/** Board flags: the earliest attempt passed, the latest attempt passed, the latest attempt was demo firmware. */
export const FIRST_PASS = 1;
export const FINAL_PASS = 2;
export const DEMO = 4;

/** Per-board state as parallel typed arrays, indexed by the order boards were first seen. */
export class BoardTable {
  readonly index = new Map<string, number>();
  size = 0;
  firstStart = new Float64Array(1024);
  lastEnd = new Float64Array(1024);
  attempts = new Uint32Array(1024);
  flags = new Uint8Array(1024);
  firstRecipe = new Uint32Array(1024);
  lastRecipe = new Uint32Array(1024);
  lastLot = new Uint32Array(1024);
  lastSlot = new Uint32Array(1024);
  lastCode = new Uint32Array(1024);

  slotOf(mac: string): number {
    let i = this.index.get(mac);
    if (i === undefined) {
      i = this.size++;
      if (i === this.attempts.length) this.grow();
      this.index.set(mac, i);
      this.firstStart[i] = Infinity;
      this.lastEnd[i] = -Infinity;
    }
    return i;
  }

  private grow(): void {
    const n = this.attempts.length * 2;
    const g = <T extends Float64Array | Uint32Array | Uint8Array>(a: T, make: (n: number) => T): T => {
      const b = make(n);
      b.set(a);
      return b;
    };
    this.firstStart = g(this.firstStart, (k) => new Float64Array(k));
    this.lastEnd = g(this.lastEnd, (k) => new Float64Array(k));
    this.attempts = g(this.attempts, (k) => new Uint32Array(k));
    this.flags = g(this.flags, (k) => new Uint8Array(k));
    this.firstRecipe = g(this.firstRecipe, (k) => new Uint32Array(k));
    this.lastRecipe = g(this.lastRecipe, (k) => new Uint32Array(k));
    this.lastLot = g(this.lastLot, (k) => new Uint32Array(k));
    this.lastSlot = g(this.lastSlot, (k) => new Uint32Array(k));
    this.lastCode = g(this.lastCode, (k) => new Uint32Array(k));
  }
}
