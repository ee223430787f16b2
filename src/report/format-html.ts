/**
 * The report as one self-contained HTML file: inline CSS and SVG, no script, no network (a Content-Security-Policy
 * forbids both, so even a value that slipped past escaping could not run or fetch anything).
 */
import { formatLedgerProblem } from '../ledger/reader.ts';
import { binWords, describeFilter } from './format-text.ts';
import { binLabel, decimal, instant, percent, seconds, shortRecipe, zoneName } from './figures.ts';
import { esc } from './html-escape.ts';
import { OUTLIER_RULE } from './slot-outliers.ts';
import { paretoSvg, slotHeatMapSvg, yieldColour, yieldOverTimeSvg } from './svg-charts.ts';
import type { GroupRow, YieldReport } from './yield-report.ts';

const CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:";

const STYLE = `
body{font:14px/1.45 system-ui,sans-serif;color:#212121;margin:24px auto;max-width:1000px;padding:0 16px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid #e0e0e0;padding-bottom:4px}
.meta{color:#616161;margin:2px 0}
.demo{background:#b71c1c;color:#fff;font-weight:bold;padding:10px 14px;border-radius:6px;margin:12px 0}
.cards{display:flex;flex-wrap:wrap;gap:10px;margin:12px 0}
.card{border:1px solid #e0e0e0;border-radius:8px;padding:8px 12px;min-width:130px}
.card .v{font-size:22px;font-weight:600}.card .k{color:#616161;font-size:12px}
table{border-collapse:collapse;margin:6px 0}th,td{padding:3px 10px;border-bottom:1px solid #eee;text-align:left}
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}.t{white-space:nowrap}
tr.low td{background:#ffebee}.flag{color:#b71c1c;font-weight:bold}
.swatch{display:inline-block;width:10px;height:10px;border-radius:2px;margin-right:6px;vertical-align:middle}
.swatch.few{background-image:repeating-linear-gradient(45deg,rgba(255,255,255,.6) 0 2px,transparent 2px 4px);outline:1px dashed #455a64}
.note{color:#616161;font-size:12px}svg.chart{max-width:100%;height:auto;display:block;margin:6px 0}
code{font-size:12px}details summary{cursor:pointer;color:#1565c0}
`;

function table(head: Array<[string, boolean?]>, rows: string[][], rowClass?: (i: number) => string): string {
  const th = head.map(([t, n]) => `<th${n ? ' class="n"' : ''}>${esc(t)}</th>`).join('');
  const body = rows
    .map((r, i) => {
      const cls = rowClass?.(i);
      return `<tr${cls ? ` class="${cls}"` : ''}>${r.map((c, k) => `<td${head[k]?.[1] ? ' class="n"' : ''}>${c}</td>`).join('')}</tr>`;
    })
    .join('');
  return `<table><thead><tr>${th}</tr></thead><tbody>${body}</tbody></table>`;
}

/** A name (station, slot, lot, code, step) on one line: `1-1.4.2` broken at its hyphen reads as two names. */
function name(text: string): string {
  return `<span class="t">${esc(text)}</span>`;
}

function card(id: string, label: string, value: string, detail = ''): string {
  return `<div class="card" id="${id}"><div class="v">${esc(value)}</div><div class="k">${esc(label)}${detail ? ` · ${esc(detail)}` : ''}</div></div>`;
}

function groupTable(title: string, rows: GroupRow[]): string {
  return table(
    [[title], ['attempts', true], ['passed', true], ['failed', true], ['yield', true]],
    rows.map((g) => [
      name(g.key || '(none)'),
      `${g.attempts}`,
      `${g.passed}`,
      `${g.failed}`,
      esc(percent(g.yield)),
    ]),
  );
}

export function formatHtml(r: YieldReport): string {
  const t = r.totals;
  const tz = r.timeZone;
  const at = (iso: string) => `<span class="t">${esc(instant(iso, tz))}</span>`;
  const s: string[] = [];
  s.push('<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">');
  s.push(`<meta http-equiv="Content-Security-Policy" content="${CSP}">`);
  s.push('<meta name="viewport" content="width=device-width, initial-scale=1">');
  s.push(`<title>esp-station yield report</title><style>${STYLE}</style></head><body>`);
  s.push('<h1>esp-station yield report</h1>');
  s.push(
    `<p class="meta">Ledger <code>${esc(r.ledger.path)}</code>: ${r.ledger.files.length} file(s), ${r.ledger.records} records, ` +
      `<span id="unreadable">${r.ledger.problemCount}</span> unreadable line(s). Filter: ${esc(describeFilter(r.filter, tz))}.</p>`,
  );
  s.push(
    `<p class="meta">${r.window ? `Window ${at(r.window.first)} to ${at(r.window.last)} (${esc(decimal(r.window.hours, 2))} h)` : 'No matching attempts'}. Generated ${at(r.generatedAt)}. <span id="time-zone">Times in ${esc(zoneName(tz, r.window?.first ?? r.generatedAt))}</span>.</p>`,
  );
  if (r.demo.attempts > 0) {
    s.push(
      `<div class="demo" id="demo-warning">DEMO FIRMWARE: ${r.demo.attempts} attempt(s) flashed demo firmware (recipe ${r.demo.recipes.map((x) => esc(shortRecipe(x))).join(', ')}). These boards must not ship.</div>`,
    );
  }

  s.push('<h2>Totals</h2><div class="cards">');
  s.push(
    card('fpy', 'first-pass yield', percent(t.firstPassYield), `${t.boardsFirstPass} of ${t.boards} boards`),
  );
  s.push(
    card('final-yield', 'final yield', percent(t.finalYield), `${t.boardsPassed} of ${t.boards} boards`),
  );
  s.push(
    card(
      'boards',
      'boards (unique MAC)',
      `${t.boards}`,
      `${t.boardsPassed} passed, ${t.boardsFailed} failed`,
    ),
  );
  s.push(
    card('attempts', 'attempts', `${t.attempts}`, `${t.attemptsPassed} passed, ${t.attemptsFailed} failed`),
  );
  s.push(card('retests', 'retests', `${t.retests}`, `on ${t.boardsRetested} boards`));
  s.push(card('bph', 'boards per hour', decimal(t.boardsPerHour)));
  s.push(
    card(
      'cycle',
      'cycle time p50 / p90 / max',
      t.cycleTimeMs
        ? `${seconds(t.cycleTimeMs.p50)} / ${seconds(t.cycleTimeMs.p90)} / ${seconds(t.cycleTimeMs.max)}`
        : '—',
    ),
  );
  s.push(
    card(
      'retried',
      'passed after a retry / at lower baud',
      `${t.passedAfterRetry} / ${t.passedAtLowerBaud}`,
      'early signs of a bad cable or pogo pin',
    ),
  );
  s.push('</div>');
  s.push(
    `<p class="note">Attempts without a MAC (<span id="no-mac">${t.attemptsWithoutMac}</span>) never identified a board: they count as attempts and failures, not as boards. First-pass yield counts a board as first-pass when its earliest attempt passed.</p>`,
  );

  s.push(
    '<h2>Yield over time</h2>',
    yieldOverTimeSvg(
      r.timeline.rows,
      r.timeline.binMinutes,
      tz,
      zoneName(tz, r.window?.first ?? r.generatedAt),
    ),
  );
  s.push('<h2>Slots</h2>', slotHeatMapSvg(r.slots));
  s.push(
    table(
      [
        ['station'],
        ['slot'],
        ['attempts', true],
        ['passed', true],
        ['failed', true],
        ['yield', true],
        ['after retry', true],
        ['lower baud', true],
        ['top failure'],
        ['flag'],
      ],
      r.slots.map((x) => [
        name(x.station),
        name(x.slot),
        `${x.attempts}`,
        `${x.passed}`,
        `${x.failed}`,
        `<span class="swatch${x.verdict === 'too-few' ? ' few' : ''}" style="background-color:${yieldColour(x.yield)}"></span>${esc(percent(x.yield))}`,
        `${x.passedAfterRetry}`,
        `${x.passedAtLowerBaud}`,
        name(x.topFailure ?? ''),
        x.verdict === 'low'
          ? `<span class="flag">LOW</span> z=${esc(decimal(x.z))} vs ${esc(percent(x.restYield))} elsewhere`
          : x.verdict === 'too-few'
            ? 'too few to judge'
            : '',
      ]),
      (i) => (r.slots[i].verdict === 'low' ? 'low' : ''),
    ),
  );
  s.push(
    `<p class="note">A slot is flagged LOW when it has at least ${OUTLIER_RULE.minAttempts} attempts, a one-sided two-proportion z-test against all other slots pooled gives z ≤ ${OUTLIER_RULE.zLimit}, and its yield is at least ${OUTLIER_RULE.minGap * 100} points below theirs. "After retry" counts passes that needed a retry, "lower baud" passes written below the station's fastest baud: both are early signs of a bad cable, hub port or pogo pin.</p>`,
  );
  if (r.phases.length > 0) {
    s.push('<h2>Time per phase</h2>');
    s.push(
      table(
        [['phase'], ['attempts', true], ['p50', true], ['p90', true], ['max', true]],
        r.phases.map((p) => [
          esc(p.phase),
          `${p.attempts}`,
          esc(seconds(p.p50Ms)),
          esc(seconds(p.p90Ms)),
          esc(seconds(p.maxMs)),
        ]),
      ),
    );
  }

  s.push('<h2>Failure Pareto</h2><h3>By code</h3>', paretoSvg(r.failures.byCode, 'chart-pareto-code'));
  s.push(
    table(
      [['code'], ['count', true], ['share', true], ['cumulative', true]],
      r.failures.byCode.map((p) => [
        name(p.key),
        `${p.count}`,
        esc(percent(p.share)),
        esc(percent(p.cumulative)),
      ]),
    ),
  );
  if (r.failures.byTestStep.length > 0) {
    s.push(
      '<h3>By AT test step</h3>',
      table(
        [['step'], ['count', true], ['share', true]],
        r.failures.byTestStep.map((p) => [name(p.key), `${p.count}`, esc(percent(p.share))]),
      ),
    );
  }
  s.push('<h3>By message</h3>', paretoSvg(r.failures.byMessage, 'chart-pareto-message'));
  s.push(
    table(
      [['message'], ['count', true], ['share', true], ['cumulative', true]],
      r.failures.byMessage.map((p) => [
        esc(p.key),
        `${p.count}`,
        esc(percent(p.share)),
        esc(percent(p.cumulative)),
      ]),
    ),
  );
  if (r.failures.untrackedMessages > 0) {
    s.push(
      `<p class="note">${r.failures.untrackedMessages} failures had further distinct messages that were not tracked.</p>`,
    );
  }

  s.push('<h2>Recipes (firmware fingerprints)</h2>');
  s.push(
    table(
      [
        ['recipe'],
        ['profiles'],
        ['attempts', true],
        ['yield', true],
        ['boards', true],
        ['first-pass yield', true],
        ['first seen'],
        ['last seen'],
        [''],
      ],
      r.recipes.map((x) => [
        `<code title="${esc(x.key)}">${esc(shortRecipe(x.key))}</code>`,
        esc(x.profiles.join(', ')),
        `${x.attempts}`,
        esc(percent(x.yield)),
        `${x.boards}`,
        esc(percent(x.firstPassYield)),
        at(x.first),
        at(x.last),
        x.demoFirmware ? '<span class="flag">DEMO FIRMWARE</span>' : '',
      ]),
    ),
  );
  s.push('<h2>Lots</h2>', groupTable('lot', r.lots), '<h2>Stations</h2>', groupTable('station', r.stations));
  s.push('<h2>Operators</h2>', groupTable('operator', r.operators));

  const day = r.timeline.binMinutes >= 1440;
  s.push(
    `<h2>Over time</h2><details><summary>attempts and yield, ${esc(binWords(r.timeline.binMinutes))}, by attempt end</summary>`,
  );
  s.push(
    table(
      [[day ? 'day' : 'from'], ['attempts', true], ['passed', true], ['failed', true], ['yield', true]],
      r.timeline.rows.map((h) => [
        esc(binLabel(h.start, tz, day)),
        `${h.attempts}`,
        `${h.passed}`,
        `${h.failed}`,
        esc(percent(h.yield)),
      ]),
    ),
  );
  s.push('</details>');

  if (r.failedBoards.length > 0) {
    s.push(
      `<h2>Boards whose latest attempt failed (${t.boardsFailed}${t.boardsFailed > r.failedBoards.length ? `, latest ${r.failedBoards.length} shown` : ''})</h2>`,
    );
    s.push(
      table(
        [
          ['MAC'],
          ['attempts', true],
          ['last attempt'],
          ['lot'],
          ['station'],
          ['slot'],
          ['code'],
          ['message'],
        ],
        r.failedBoards.map((b) => [
          name(b.mac),
          `${b.attempts}`,
          at(b.last),
          name(b.lot || '(none)'),
          name(b.station),
          name(b.slot),
          name(b.code),
          esc(b.message),
        ]),
      ),
    );
  }
  if (r.ledger.problemCount > 0) {
    s.push(`<h2>Unreadable ledger lines (${r.ledger.problemCount})</h2><ul>`);
    for (const p of r.ledger.problems) s.push(`<li><code>${esc(formatLedgerProblem(p))}</code></li>`);
    s.push('</ul>');
  }
  s.push('</body></html>\n');
  return s.join('\n');
}
