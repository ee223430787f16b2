import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatNvsCsv, NvsInputError, parseNvsCsv } from '../../src/nvs/index.ts';
import type { NvsProblem } from '../../src/nvs/index.ts';

const noFiles = (p: string) => Promise.reject(Object.assign(new Error(`ENOENT: ${p}`), { code: 'ENOENT' }));

async function problemsOf(csv: string): Promise<NvsProblem[]> {
  try {
    await parseNvsCsv(csv, '/plant/mfg.csv', noFiles);
  } catch (err) {
    if (err instanceof NvsInputError) return err.problems;
    throw err;
  }
  assert.fail('the CSV was accepted');
}

const HEADER = 'key,type,encoding,value\n';

test('each bad row is reported with its line and what to change, all at once', async () => {
  const csv =
    HEADER +
    [
      'factory_param,namespace,,', // 2
      'baud,data,u8,115200', // 3
      'pin,data,i8,-129', // 4
      'name,data,strng,WROOM', // 5
      'x,date,u8,1', // 6
      'a_key_longer_than_15,data,u8,1', // 7
      'hex,data,hex2bin,abc', // 8
      'hex2,data,hex2bin,zz', // 9
      'b64,data,base64,not base64!', // 10
      'cert,file,binary,certs/missing.pem', // 11
      'count,data,u32,ten', // 12
      'too,data,u8,1,extra', // 13
      'short,data,u8', // 14
      'ok,data,u8,1', // 15
      'ok,data,u8,2', // 16
      'num,file,u8,n.txt', // 17
    ].join('\n') +
    '\n';
  const problems = await problemsOf(csv);
  const byLine = Object.fromEntries(problems.map((p) => [p.line, p.message]));
  assert.ok(problems.every((p) => p.file === '/plant/mfg.csv'));
  assert.match(byLine[3], /'baud': 115200 does not fit u8 \(0\.\.255\); use a wider type/);
  assert.match(byLine[4], /-129 does not fit i8 \(-128\.\.127\)/);
  assert.match(
    byLine[5],
    /encoding 'strng' is not one data rows take; use one of u8, i8, .*string, binary, hex2bin, base64/,
  );
  assert.match(byLine[6], /type 'date' is not one of namespace, data, file/);
  assert.match(
    byLine[7],
    /key 'a_key_longer_than_15' is 20 bytes long; NVS keys and namespaces hold at most 15/,
  );
  assert.match(byLine[8], /hex2bin value has 3 digits; give an even number/);
  assert.match(byLine[9], /characters other than 0-9, a-f/);
  assert.match(byLine[10], /not valid base64/);
  assert.match(
    byLine[11],
    /file not found: \/plant\/certs\/missing\.pem \(file paths are relative to the CSV's folder\)/,
  );
  assert.match(byLine[12], /'ten' is not a whole number; write it in decimal/);
  assert.match(byLine[13], /has 5 fields, the header 4; put a value that contains commas in double quotes/);
  assert.match(byLine[14], /'short' has no value column/);
  assert.equal(byLine[15], undefined);
  assert.match(
    byLine[16],
    /'ok' is already set in namespace 'factory_param' on line 15; keep one of the two rows/,
  );
  assert.match(
    byLine[17],
    /encoding 'u8' is not one file rows take; use one of string, binary, hex2bin, base64/,
  );
  assert.equal(problems.length, 14);
});

test('a header alone is an empty partition; comments and blank lines are skipped', async () => {
  assert.deepEqual(await parseNvsCsv(HEADER, 'x.csv', noFiles), { items: [] });
  const p = await parseNvsCsv(
    `# made by hand\n${HEADER}\n# a comment\nns,namespace,,\n\nv,data,u8,0x1F\n`,
    'x.csv',
    noFiles,
  );
  assert.deepEqual(p.items, [
    { kind: 'namespace', name: 'ns' },
    { kind: 'entry', namespace: 'ns', key: 'v', value: { type: 'u8', value: 31 } },
  ]);
});

test('a row before any namespace, a namespace opened twice, an unclosed quote, a wrong header', async () => {
  const before = await problemsOf(`${HEADER}v,data,u8,1\n`);
  assert.deepEqual(before, [
    {
      file: '/plant/mfg.csv',
      line: 2,
      message: "'v' comes before any namespace; add a row 'NAME,namespace,,' above it",
    },
  ]);
  const twice = await problemsOf(
    `${HEADER}a,namespace,,\nx,data,u8,1\nb,namespace,,\na,namespace,,\ny,data,u8,2\n`,
  );
  assert.deepEqual(twice, [
    {
      file: '/plant/mfg.csv',
      line: 5,
      message: "namespace 'a' was opened on line 2 already; move these rows up under that one",
    },
  ]);
  const open = await problemsOf(`${HEADER}a,namespace,,\ns,data,string,"never closed\n`);
  assert.deepEqual(open, [
    {
      file: '/plant/mfg.csv',
      line: 3,
      message: 'a quoted value is never closed; end it with " (write "" for a quote inside a value)',
    },
  ]);
  const header = await problemsOf('name,kind,value\n');
  assert.match(
    header[0].message,
    /the header lacks key, type, encoding; the first line must be key,type,encoding,value/,
  );
  assert.equal(header[0].line, 1);
});

test('CSV quoting survives the round trip: commas, quotes, line breaks, a key starting with #', async () => {
  const partition = {
    items: [
      { kind: 'namespace' as const, name: 'n' },
      {
        kind: 'entry' as const,
        namespace: 'n',
        key: '#hash',
        value: { type: 'string' as const, value: 'a, "b"\nc\r\nd' },
      },
      {
        kind: 'entry' as const,
        namespace: 'n',
        key: 'big',
        value: { type: 'i64' as const, value: -(2n ** 63n) },
      },
      {
        kind: 'entry' as const,
        namespace: 'n',
        key: 'blob',
        value: { type: 'blob' as const, value: new Uint8Array([0, 1, 255]) },
      },
    ],
  };
  const csv = formatNvsCsv(partition);
  assert.deepEqual(await parseNvsCsv(csv, 'x.csv', noFiles), partition);
});
