/**
 * Test fixture: a simulated board on a SimBinding port, opened through our Transport, with cleanup.
 * Not a test file itself (no .test.ts suffix).
 */
import type { TestContext } from 'node:test';
import { createHash } from 'node:crypto';
import { SimBinding } from '../../src/sim/binding.ts';
import { SimBoard, type SimBoardOptions } from '../../src/sim/board.ts';
import { openTransport, type Transport, type UsbVidPid } from '../../src/serial/transport.ts';
import { EspLoader, type ConnectOptions } from '../../src/esp/loader.ts';
import type { FlashRegion } from '../../src/esp/write-regions.ts';

let counter = 0;

export interface SimLink {
  binding: SimBinding;
  board: SimBoard;
  path: string;
  transport: Transport;
}

export async function simLink(
  t: TestContext,
  board: SimBoardOptions = {},
  usbVidPid?: UsbVidPid,
): Promise<SimLink> {
  const binding = new SimBinding();
  const sim = new SimBoard({ timing: 'fast', ...board });
  const path = `/dev/ttySIM${counter++}`;
  binding.plug(path, sim);
  const transport = await openTransport(path, { binding: binding as never, usbVidPid });
  t.after(async () => {
    await transport.close();
    binding.unplug(path);
  });
  return { binding, board: sim, path, transport };
}

/** Reset waits shrunk 10× — the simulated board samples its straps 1 ms after EN rises. */
export const FAST_CONNECT: ConnectOptions = { resetTimeScale: 0.1 };

export async function simLoader(
  t: TestContext,
  board: SimBoardOptions = {},
  connect: ConnectOptions = {},
): Promise<SimLink & { loader: EspLoader }> {
  const link = await simLink(t, board);
  const loader = await EspLoader.connect(link.transport, { ...FAST_CONNECT, ...connect });
  t.after(() => loader.dispose());
  return { ...link, loader };
}

/** Deterministic, poorly compressible-but-not-random test data. */
export function pattern(size: number, seed = 1): Uint8Array {
  const out = new Uint8Array(size);
  let x = seed * 2654435761;
  for (let i = 0; i < size; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out[i] = i % 3 === 0 ? x >>> 24 : i & 0xff;
  }
  return out;
}

export function region(offset: number, data: Uint8Array, label = `r${offset.toString(16)}`): FlashRegion {
  return { offset, label, data, md5: createHash('md5').update(data).digest('hex') };
}
