/**
 * esptool-js's own progress lines, stamped by scripts/conformance/esptool-js-tcp.ts (ESPTOOL_JS_TIMELINE=1),
 * read into the same per-phase breakdown as the station's: so the QEMU columns compare the two tools phase by
 * phase on one emulated chip. esptool-js prints "Writing at 0x…" before it sends each block, so the next such
 * line (or "Wrote …") is the previous block's acknowledgement.
 */
import type { Breakdown, RegionBreakdown } from './breakdown.ts';

interface Line {
  t: number;
  text: string;
}

export function parseTimeline(stderr: string): Line[] {
  const lines: Line[] = [];
  for (const raw of stderr.split('\n')) {
    const m = /^\s*(\d+) (.*)$/.exec(raw);
    if (m) lines.push({ t: Number(m[1]), text: m[2]! });
  }
  return lines;
}

const median = (xs: number[]): number => {
  if (xs.length === 0) return 0;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
};

/** The breakdown of one esptool-js run (`main('no_reset')` + `writeFlash`), or undefined when a mark is missing. */
export function esptoolJsBreakdown(lines: readonly Line[], totalMs: number): Breakdown | undefined {
  const at = (prefix: string, from = 0) => {
    const i = lines.findIndex((l, j) => j >= from && l.text.startsWith(prefix));
    return i < 0 ? undefined : { i, t: lines[i]!.t };
  };
  const detected = at('Detecting chip type');
  const chip = detected && lines[detected.i + 1];
  const upload = at('Uploading stub');
  const running = at('Stub running');
  const changed = at('Changed');
  const flashId = at('Flash ID');
  if (!chip || !upload || !running || !changed || !flashId) return undefined;

  const regions: RegionBreakdown[] = [];
  let from = flashId.i;
  let regionStart = flashId.t;
  let compressMs = 0;
  for (;;) {
    const compressed = at('Compressed ', from);
    const wrote = compressed && at('Wrote ', compressed.i);
    const verified = wrote && at('Hash of data verified', wrote.i);
    if (!compressed || !wrote || !verified) break;
    // Compressing happens in esptool-js before each region (the station does it once per recipe).
    compressMs += compressed.t - regionStart;
    const sends = lines.slice(compressed.i, wrote.i).filter((l) => l.text.startsWith('Writing at'));
    const acks = [...sends.slice(1).map((l) => l.t), wrote.t];
    const m = /^Wrote (\d+) bytes .* at 0x([0-9a-f]+)/.exec(lines[wrote.i]!.text);
    regions.push({
      label: `0x${m?.[2] ?? '?'}`,
      offset: m ? parseInt(m[2]!, 16) : 0,
      bytes: m ? Number(m[1]) : 0,
      firstBlockMs: acks[0]! - compressed.t,
      blocks: acks.length - 1,
      blocksMs: acks[acks.length - 1]! - acks[0]!,
      medianBlockMs: median(acks.slice(1).map((x, i) => x - acks[i]!)),
      endMs: verified.t - wrote.t,
      totalMs: verified.t - compressed.t,
    });
    from = verified.i;
    regionStart = verified.t;
  }
  if (regions.length === 0) return undefined;
  const connectMs = chip.t;
  const identifyMs = upload.t - chip.t;
  const stubUploadMs = running.t - upload.t;
  const baudSwitchMs = changed.t - running.t;
  const checkMs = flashId.t - changed.t;
  const regionMs = regions.reduce((n, r) => n + r.totalMs, 0);
  return {
    totalMs,
    connectMs,
    identifyMs,
    checkMs,
    stubUploadMs,
    baudSwitchMs,
    regions,
    otherMs: totalMs - (connectMs + identifyMs + stubUploadMs + baudSwitchMs + checkMs + regionMs),
    verifyMs: 0,
    resetMs: 0,
    ...(compressMs > 0 && { hostCompressMs: compressMs }),
  };
}
