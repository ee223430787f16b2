import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AtClient } from '../../src/board-test/at-client.ts';
import type { BoardTestPlan } from '../../src/board-test/plan.ts';
import { parseGmr, parseMfgValue, responseParams } from '../../src/board-test/responses.ts';
import { runBoardTest } from '../../src/board-test/run-test.ts';
import { GMR_V3400, OK, ScriptedModule } from './scripted-module.ts';

const MAC = '24:0A:C4:12:34:56';

function fullPlan(over: Partial<BoardTestPlan> = {}): BoardTestPlan {
  return {
    baud: 115200,
    ready: { timeoutMs: 300, graceMs: 0 },
    echoOff: { timeoutMs: 200 },
    at: { timeoutMs: 200 },
    version: { timeoutMs: 200, binVersion: 'v3.4.0.0', moduleName: 'WROOM-32', sdkVersion: 'v5.0.6-dirty' },
    mac: { timeoutMs: 200 },
    mfg: { timeoutMs: 200, namespaces: ['server_cert', 'factory_param', 'ble_data'] },
    mfgRead: {
      timeoutMs: 200,
      values: [{ namespace: 'factory_param', key: 'module_name', type: 'string', value: 'WROOM-32' }],
    },
    wifiScan: { timeoutMs: 300, ssid: 'line-7-test', minRssi: -70 },
    ...over,
  };
}

function goodModule(): ScriptedModule {
  return new ScriptedModule({
    ATE0: OK,
    AT: OK,
    'AT+GMR': GMR_V3400,
    'AT+CIPSTAMAC?': `+CIPSTAMAC:"${MAC.toLowerCase()}"\r\n${OK}`,
    'AT+SYSMFG?': `+SYSMFG:"factory_param"\r\n+SYSMFG:"server_cert"\r\n+SYSMFG:"ble_data"\r\n${OK}`,
    'AT+SYSMFG=1,"factory_param","module_name"': `+SYSMFG:"factory_param","module_name",7,8,WROOM-32\r\n${OK}`,
    'AT+CWLAP="line-7-test"': `+CWLAP:(3,"line-7-test",-52,"a0:b1:c2:d3:e4:f5",6,-1,-1,4,4,7,0)\r\n${OK}`,
  });
}

async function run(m: ScriptedModule, plan = fullPlan(), beforeReady?: string) {
  const client = new AtClient(m);
  m.print(`${beforeReady ?? ''}\r\nready\r\n`);
  try {
    return await runBoardTest(client, plan, { mac: MAC }, { signal: new AbortController().signal });
  } finally {
    client.dispose();
  }
}

test('a board that answers every step as ESP-AT v3.4.0.0 does passes, with a transcript of each command', async () => {
  const m = goodModule();
  const r = await run(m);
  assert.equal(r.passed, true, r.message);
  assert.deepEqual(
    r.transcript.map((e) => [e.step, e.command, e.result]),
    [
      ['ready', undefined, 'ok'],
      ['echo-off', 'ATE0', 'ok'],
      ['at', 'AT', 'ok'],
      ['version', 'AT+GMR', 'ok'],
      ['mac', 'AT+CIPSTAMAC?', 'ok'],
      ['mfg', 'AT+SYSMFG?', 'ok'],
      ['mfg-read', 'AT+SYSMFG=1,"factory_param","module_name"', 'ok'],
      ['wifi-scan', 'AT+CWLAP="line-7-test"', 'ok'],
    ],
  );
  const gmr = r.transcript.find((e) => e.step === 'version')!;
  assert.ok(gmr.lines.includes('Bin version:v3.4.0.0(WROOM-32)'));
  assert.equal(gmr.lines.at(-1), 'OK');
  // The echo of ATE0 came back (echo was still on), later commands were not echoed.
  assert.deepEqual(r.transcript[1].lines, ['OK']);
  assert.deepEqual(
    m.sent,
    r.transcript.filter((e) => e.command).map((e) => e.command),
  );
});

test('each way a board goes wrong ends the test at that step with its own code', async () => {
  const cases: [string, (m: ScriptedModule) => void, string, string][] = [
    [
      'old firmware',
      (m) => (m.answers['AT+GMR'] = GMR_V3400.replace('v3.4.0.0(', 'v3.3.0.0(')),
      'version',
      'at-version-mismatch',
    ],
    [
      'other IDF build',
      (m) => (m.answers['AT+GMR'] = GMR_V3400.replace('v5.0.6-dirty', 'v5.0.4')),
      'version',
      'at-version-mismatch',
    ],
    [
      'module name',
      (m) => (m.answers['AT+GMR'] = GMR_V3400.replace('(WROOM-32)', '(MINI-1)')),
      'version',
      'at-module-mismatch',
    ],
    [
      'another board on the AT cable',
      (m) => (m.answers['AT+CIPSTAMAC?'] = `+CIPSTAMAC:"24:0a:c4:00:00:01"\r\n${OK}`),
      'mac',
      'at-mac-mismatch',
    ],
    [
      'a namespace missing',
      (m) => (m.answers['AT+SYSMFG?'] = `+SYSMFG:"factory_param"\r\n${OK}`),
      'mfg',
      'at-mfg-mismatch',
    ],
    ['mfg_nvs unreadable', (m) => (m.answers['AT+SYSMFG?'] = '\r\nERROR\r\n'), 'mfg', 'at-mfg-mismatch'],
    [
      'a value differs',
      (m) =>
        (m.answers['AT+SYSMFG=1,"factory_param","module_name"'] =
          `+SYSMFG:"factory_param","module_name",7,6,MINI-1\r\n${OK}`),
      'mfg-read',
      'at-mfg-mismatch',
    ],
    ['no access point', (m) => (m.answers['AT+CWLAP="line-7-test"'] = OK), 'wifi-scan', 'at-no-ap'],
    [
      'access point too weak',
      (m) =>
        (m.answers['AT+CWLAP="line-7-test"'] =
          `+CWLAP:(3,"line-7-test",-88,"a0:b1:c2:d3:e4:f5",6,-1,-1,4,4,7,0)\r\n${OK}`),
      'wifi-scan',
      'at-no-ap',
    ],
    ['AT unanswered', (m) => (m.answers.AT = undefined), 'at', 'at-no-answer'],
    ['ATE0 refused', (m) => (m.answers.ATE0 = '\r\nERROR\r\n'), 'echo-off', 'at-command-error'],
  ];
  for (const [what, spoil, step, code] of cases) {
    const m = goodModule();
    spoil(m);
    const r = await run(m);
    assert.equal(r.passed, false, what);
    assert.equal(r.failedStep, step, what);
    assert.equal(r.code, code, `${what}: ${r.message}`);
    assert.ok(r.message && r.message.length > 30, what);
    assert.equal(r.transcript.at(-1)!.step, step, what);
  }
});

test("no 'ready': nothing at all and unreadable text are told apart; a late 'ready' is at-slow-ready", async () => {
  const silent = goodModule();
  const client = new AtClient(silent);
  const r1 = await runBoardTest(client, fullPlan(), { mac: MAC }, { signal: new AbortController().signal });
  assert.equal(r1.code, 'at-no-ready');
  assert.match(r1.message!, /Nothing came/);

  const garbled = goodModule();
  const c2 = new AtClient(garbled);
  garbled.print('\x8f\xe3\x11}\x02\r\n\xa7\x99\r\n');
  const r2 = await runBoardTest(c2, fullPlan(), { mac: MAC }, { signal: new AbortController().signal });
  assert.equal(r2.code, 'at-no-ready');
  assert.match(r2.message!, /wrong baud.*115200/);

  const slow = goodModule();
  const c3 = new AtClient(slow);
  // 'ready' after the 300 ms limit: the limit's timer is due first however late a loaded machine runs both;
  // the grace is wide so that a late timer cannot push 'ready' past it (the test ends when 'ready' comes).
  setTimeout(() => slow.print('\r\nready\r\n'), 450);
  const r3 = await runBoardTest(
    c3,
    fullPlan({ ready: { timeoutMs: 300, graceMs: 60_000 } }),
    { mac: MAC },
    { signal: new AbortController().signal },
  );
  assert.equal(r3.code, 'at-slow-ready', r3.message);
});

test("a 'ready' printed before anyone asked is still seen (the client listens from the start)", async () => {
  const m = goodModule();
  const client = new AtClient(m);
  m.print('\r\nready\r\n');
  await new Promise((r) => setTimeout(r, 20));
  const r = await runBoardTest(client, fullPlan(), { mac: MAC }, { signal: new AbortController().signal });
  assert.equal(r.passed, true, r.message);
});

test('busy p... makes the client send the command again; an abort rejects', async () => {
  let n = 0;
  const m = new ScriptedModule({ AT: () => (n++ === 0 ? 'busy p...\r\n' : OK) });
  m.echo = false;
  const client = new AtClient(m, { busyDelayMs: 5 });
  const reply = await client.command('AT', 500, new AbortController().signal);
  assert.equal(reply.final, 'OK');
  assert.deepEqual(m.sent, ['AT', 'AT']);
  assert.deepEqual(reply.lines, ['busy p...']);

  const ac = new AbortController();
  const pending = client.command('AT+GMR', 5000, ac.signal);
  ac.abort(new Error('unplugged'));
  await assert.rejects(pending, /unplugged/);
});

test('response readers: GMR, quoted parameters, values over several lines', () => {
  assert.deepEqual(parseGmr(GMR_V3400.split('\r\n')), {
    atVersion: '3.4.0.0(s-4c6eb5e - ESP32 - May 20 2024 03:12:58)',
    sdkVersion: 'v5.0.6-dirty',
    compileTime: '(70ff5889):Jun  7 2024 04:46:00',
    binVersion: 'v3.4.0.0',
    moduleName: 'WROOM-32',
  });
  assert.deepEqual(responseParams('+CWLAP:(3,"a\\"b,c",-40,"mac",1)', 'CWLAP'), [
    '3',
    'a"b,c',
    '-40',
    'mac',
    '1',
  ]);
  assert.deepEqual(responseParams('+SYSMFG:factory_param', 'SYSMFG'), ['factory_param']);
  assert.equal(responseParams('+CIPSTAMAC:"x"', 'SYSMFG'), undefined);
  const pem = parseMfgValue([
    '+SYSMFG:"client_cert","client_cert.0",8,40,-----BEGIN CERTIFICATE-----',
    'MIIB1',
    '-----END CERTIFICATE-----',
  ]);
  assert.equal(pem?.value, '-----BEGIN CERTIFICATE-----\nMIIB1\n-----END CERTIFICATE-----');
  assert.deepEqual(parseMfgValue(['+SYSMFG:"factory_param","uart_baudrate",6,6,115200']), {
    namespace: 'factory_param',
    key: 'uart_baudrate',
    type: 'i32',
    length: 6,
    value: '115200',
  });
});
