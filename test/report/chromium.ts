/** Headless Chromium for the HTML report tests: dump the rendered DOM, or take a screenshot. */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { inflateSync } from 'node:zlib';

const run = promisify(execFile);

/** Debian's chromium; CHROMIUM=/path overrides it. */
export const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';

function flags(userDataDir: string): string[] {
  return [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    `--user-data-dir=${userDataDir}`,
  ];
}

async function withProfile<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `${CHROMIUM} is missing: run .ci/setup-test-deps.sh (installs Debian's chromium) as root`,
    );
  }
  const dir = await mkdtemp(join(tmpdir(), 'chromium-profile-'));
  try {
    return await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export function dumpDom(htmlFile: string): Promise<string> {
  return withProfile(async (profile) => {
    const { stdout } = await run(CHROMIUM, [...flags(profile), '--dump-dom', pathToFileURL(htmlFile).href], {
      timeout: 60_000,
      maxBuffer: 64 << 20,
    });
    return stdout;
  });
}

export function screenshot(htmlFile: string, png: string, width = 1280, height = 2000): Promise<void> {
  return withProfile(async (profile) => {
    await run(
      CHROMIUM,
      [
        ...flags(profile),
        '--hide-scrollbars',
        `--screenshot=${png}`,
        `--window-size=${width},${height}`,
        pathToFileURL(htmlFile).href,
      ],
      { timeout: 60_000 },
    );
  });
}

/** Decodes an 8-bit RGB/RGBA PNG (what Chromium writes) into pixels, to check what a screenshot shows. */
export function decodePng(data: Buffer): { width: number; height: number; channels: number; pixels: Buffer } {
  if (!data.subarray(0, 8).equals(Buffer.from([137, 80, 78, 71, 13, 10, 26, 10])))
    throw new Error('not a PNG');
  let width = 0;
  let height = 0;
  let channels = 0;
  const idat: Buffer[] = [];
  for (let off = 8; off < data.length;) {
    const len = data.readUInt32BE(off);
    const type = data.toString('latin1', off + 4, off + 8);
    const body = data.subarray(off + 8, off + 8 + len);
    if (type === 'IHDR') {
      width = body.readUInt32BE(0);
      height = body.readUInt32BE(4);
      if (body[8] !== 8 || body[12] !== 0) throw new Error('only 8-bit, non-interlaced PNGs');
      channels = body[9] === 6 ? 4 : body[9] === 2 ? 3 : 0;
      if (channels === 0) throw new Error(`unsupported PNG colour type ${body[9]}`);
    } else if (type === 'IDAT') idat.push(body);
    off += 12 + len;
  }
  const raw = inflateSync(Buffer.concat(idat));
  const stride = width * channels;
  const pixels = Buffer.alloc(stride * height);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)];
    const line = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    for (let x = 0; x < stride; x++) {
      const a = x >= channels ? pixels[y * stride + x - channels] : 0;
      const b = y > 0 ? pixels[(y - 1) * stride + x] : 0;
      const c = x >= channels && y > 0 ? pixels[(y - 1) * stride + x - channels] : 0;
      let v = line[x];
      if (filter === 1) v += a;
      else if (filter === 2) v += b;
      else if (filter === 3) v += (a + b) >> 1;
      else if (filter === 4) {
        const p = a + b - c;
        const pa = Math.abs(p - a);
        const pb = Math.abs(p - b);
        const pc = Math.abs(p - c);
        v += pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
      }
      pixels[y * stride + x] = v & 0xff;
    }
  }
  return { width, height, channels, pixels };
}

/** How many pixels are within `tolerance` of an RGB colour. */
export function countColour(
  img: ReturnType<typeof decodePng>,
  rgb: [number, number, number],
  tolerance = 6,
): number {
  let n = 0;
  for (let i = 0; i < img.pixels.length; i += img.channels) {
    if (
      Math.abs(img.pixels[i] - rgb[0]) <= tolerance &&
      Math.abs(img.pixels[i + 1] - rgb[1]) <= tolerance &&
      Math.abs(img.pixels[i + 2] - rgb[2]) <= tolerance
    )
      n++;
  }
  return n;
}
