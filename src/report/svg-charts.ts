/**
 * Inline SVG charts for the HTML report: plain shapes and text, no script, no external references.
 * Every label passes through esc(); numbers are formatted here.
 */
import { clip, esc } from './html-escape.ts';
import { binLabel, percent } from './figures.ts';
import type { ParetoRow, SlotRow, TimelineRow } from './yield-report.ts';

const FONT = 'font-family="system-ui, sans-serif" font-size="12"';

/** Yield colour: red at 70 % or less, through amber, to green at 100 %. */
export function yieldColour(y: number | null): string {
  if (y === null) return '#bdbdbd';
  const hue = Math.round(Math.min(1, Math.max(0, (y - 0.7) / 0.3)) * 120);
  return `hsl(${hue}, 62%, 44%)`;
}

/** Rounds an axis maximum up to 1, 2 or 5 times a power of ten. */
function niceCeil(x: number): number {
  if (x <= 1) return 1;
  const p = 10 ** Math.floor(Math.log10(x));
  return ([1, 2, 5, 10].find((k) => k * p >= x) as number) * p;
}

/** `5 minutes`, `hour`, `2 hours`, `day`: a bin in words for the chart's legend. */
function binNoun(minutes: number): string {
  if (minutes === 60) return 'hour';
  if (minutes === 1440) return 'day';
  return minutes < 60 ? `${minutes} minutes` : `${minutes / 60} hours`;
}

/**
 * Attempts per bin as bars (left scale) and yield per bin as a line (right scale); the bins fit the window
 * (5 minutes for a short run, hours for a shift) and start on local boundaries of `timeZone`. The yield scale
 * starts at the 10 % step below the worst bin (minus a margin), so a dip from 97 % to 90 % is visible.
 */
export function yieldOverTimeSvg(
  hours: TimelineRow[],
  binMinutes: number,
  timeZone: string,
  zoneText: string,
): string {
  const day = binMinutes >= 1440;
  const w = 960;
  const h = 260;
  const m = { l: 48, r: 52, t: 16, b: 40 };
  const pw = w - m.l - m.r;
  const ph = h - m.t - m.b;
  const maxAttempts = niceCeil(Math.max(1, ...hours.map((x) => x.attempts)));
  const yields = hours.map((x) => x.yield).filter((y): y is number => y !== null);
  const yMin = yields.length > 0 ? Math.max(0, Math.floor((Math.min(...yields) - 0.02) * 10) / 10) : 0;
  const yPos = (y: number) => m.t + ph * (1 - (y - yMin) / (1 - yMin));
  const n = Math.max(1, hours.length);
  const step = pw / n;
  const bw = Math.max(0.5, step * 0.7);
  const parts: string[] = [];
  parts.push(
    `<svg class="chart" id="chart-yield" viewBox="0 0 ${w} ${h}" width="${w}" height="${h}" role="img" aria-label="Attempts and yield over time" ${FONT}>`,
  );
  parts.push(`<rect x="${m.l}" y="${m.t}" width="${pw}" height="${ph}" fill="#fafafa" stroke="#ddd"/>`);
  for (const f of [0, 0.5, 1]) {
    const y = m.t + ph * (1 - f);
    parts.push(`<line x1="${m.l}" x2="${m.l + pw}" y1="${y}" y2="${y}" stroke="#e0e0e0"/>`);
    parts.push(
      `<text x="${m.l - 6}" y="${y + 4}" text-anchor="end" fill="#616161">${Math.round(maxAttempts * f)}</text>`,
    );
    parts.push(
      `<text x="${m.l + pw + 6}" y="${y + 4}" fill="#2e7d32">${Math.round((yMin + (1 - yMin) * f) * 100)} %</text>`,
    );
  }
  const points: string[] = [];
  hours.forEach((x, i) => {
    const cx = m.l + step * i + step / 2;
    const bh = (x.attempts / maxAttempts) * ph;
    parts.push(
      `<rect class="bar-attempts" x="${(cx - bw / 2).toFixed(1)}" y="${(m.t + ph - bh).toFixed(1)}" width="${bw.toFixed(1)}" height="${bh.toFixed(1)}" fill="#90a4ae"><title>${esc(binLabel(x.start, timeZone, day))}: ${x.attempts} attempts, ${x.passed} passed, yield ${esc(percent(x.yield))}</title></rect>`,
    );
    if (x.yield !== null) points.push(`${cx.toFixed(1)},${yPos(x.yield).toFixed(1)}`);
  });
  if (points.length > 1)
    parts.push(
      `<polyline class="line-yield" points="${points.join(' ')}" fill="none" stroke="#2e7d32" stroke-width="2"/>`,
    );
  for (const p of points.length <= 48 ? points : []) {
    const [x, y] = p.split(',');
    parts.push(`<circle cx="${x}" cy="${y}" r="3" fill="#2e7d32"/>`);
  }
  const labelled =
    hours.length <= 1 ? hours.map((_, i) => i) : [0, Math.floor((hours.length - 1) / 2), hours.length - 1];
  for (const i of [...new Set(labelled)]) {
    const cx = m.l + step * i + step / 2;
    parts.push(
      `<text x="${cx.toFixed(1)}" y="${h - m.b + 16}" text-anchor="middle" fill="#424242">${esc(binLabel(hours[i].start, timeZone, day))}</text>`,
    );
  }
  parts.push(
    `<text x="${m.l}" y="${h - 6}" fill="#616161">bars: attempts per ${esc(binNoun(binMinutes))} (${esc(zoneText)}, left scale) · line: yield (right scale)</text>`,
  );
  parts.push('</svg>');
  return parts.join('');
}

/** Failure Pareto: one horizontal bar per key, longest first, with count, share and cumulative share. */
export function paretoSvg(rows: ParetoRow[], id: string, maxRows = 12): string {
  const shown = rows.slice(0, maxRows);
  const w = 960;
  const rowH = 24;
  const labelW = 300;
  const h = 16 + Math.max(1, shown.length) * rowH;
  const max = Math.max(1, ...shown.map((r) => r.count));
  const barMax = w - labelW - 220;
  const parts = [
    `<svg class="chart" id="${esc(id)}" viewBox="0 0 ${w} ${h}" width="${w}" height="${h}" role="img" aria-label="Failure Pareto" ${FONT}>`,
  ];
  if (shown.length === 0) parts.push(`<text x="8" y="24" fill="#616161">no failures</text>`);
  shown.forEach((r, i) => {
    const y = 8 + i * rowH;
    const bw = Math.max(1, (r.count / max) * barMax);
    parts.push(
      `<text x="${labelW - 8}" y="${y + 16}" text-anchor="end" fill="#212121"><title>${esc(r.key)}</title>${esc(clip(r.key, 44))}</text>`,
    );
    parts.push(
      `<rect class="bar-pareto" x="${labelW}" y="${y + 3}" width="${bw.toFixed(1)}" height="${rowH - 6}" fill="#e57373"/>`,
    );
    parts.push(
      `<text x="${(labelW + bw + 6).toFixed(1)}" y="${y + 16}" fill="#212121">${r.count} (${esc(percent(r.share))}, cumulative ${esc(percent(r.cumulative))})</text>`,
    );
  });
  parts.push('</svg>');
  return parts.join('');
}

/** Pale diagonal stripes over a cell (drawn as lines: the page references nothing, not even its own ids). */
function hatch(x: number, y: number, w: number, h: number): string {
  const lines: string[] = [];
  for (let k = -h + 6; k < w; k += 10) {
    const [x1, y1] = [Math.max(k, 0), Math.max(-k, 0)];
    const [x2, y2] = [Math.min(w, h + k), Math.min(h, w - k)];
    lines.push(`<line x1="${x + x1}" y1="${y + y1}" x2="${x + x2}" y2="${y + y2}"/>`);
  }
  return `<g class="too-few" stroke="#ffffff" stroke-opacity="0.45" stroke-width="3">${lines.join('')}</g>`;
}

/**
 * One cell per slot, a row per station, always coloured by attempt yield (0 % of 7 must not look like 100 %);
 * a slot with too few attempts to judge is hatched and outlined with a dashed line instead, and a flagged slot
 * gets a thick red frame.
 */
export function slotHeatMapSvg(slots: SlotRow[]): string {
  const stations = [...new Set(slots.map((s) => s.station))];
  const cols = Math.max(1, ...stations.map((st) => slots.filter((s) => s.station === st).length));
  const cw = 104;
  const ch = 64;
  const labelW = 150;
  const w = labelW + cols * (cw + 6) + 8;
  const h = 8 + stations.length * (ch + 8);
  const parts = [
    `<svg class="chart" id="chart-slots" viewBox="0 0 ${w} ${h}" width="${w}" height="${h}" role="img" aria-label="Slot yield heat map" ${FONT}>`,
  ];
  stations.forEach((st, row) => {
    const y = 8 + row * (ch + 8);
    parts.push(
      `<text x="${labelW - 10}" y="${y + ch / 2 + 4}" text-anchor="end" fill="#212121"><title>${esc(st)}</title>${esc(clip(st, 20))}</text>`,
    );
    slots
      .filter((s) => s.station === st)
      .forEach((s, col) => {
        const x = labelW + col * (cw + 6);
        const low = s.verdict === 'low';
        const few = s.verdict === 'too-few';
        const frame = low
          ? 'stroke="#b71c1c" stroke-width="4"'
          : few
            ? 'stroke="#455a64" stroke-width="2" stroke-dasharray="5 3"'
            : 'stroke="#ffffff" stroke-width="1"';
        parts.push(
          `<g class="slot-cell${low ? ' slot-low' : ''}${few ? ' slot-few' : ''}"><title>${esc(st)} / ${esc(s.slot)}: ${s.passed} of ${s.attempts} passed (${esc(percent(s.yield))})${low ? ' — flagged LOW' : few ? ' — too few attempts to judge' : ''}</title>` +
            `<rect x="${x}" y="${y}" width="${cw}" height="${ch}" rx="6" fill="${yieldColour(s.yield)}" ${frame}/>` +
            (few ? hatch(x, y, cw, ch) : '') +
            `<text x="${x + cw / 2}" y="${y + 18}" text-anchor="middle" fill="#fff" font-weight="bold">${esc(clip(s.slot, 12))}</text>` +
            `<text x="${x + cw / 2}" y="${y + 36}" text-anchor="middle" fill="#fff">${esc(percent(s.yield))}</text>` +
            `<text x="${x + cw / 2}" y="${y + 53}" text-anchor="middle" fill="#fff" font-size="11">${low ? 'LOW · ' : ''}n=${s.attempts}${few ? ' · too few' : ''}</text></g>`,
        );
      });
  });
  parts.push('</svg>');
  return parts.join('');
}
