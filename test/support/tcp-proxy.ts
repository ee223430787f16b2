/**
 * A TCP proxy between a client and a server that a test can misbehave on purpose: cut every connection
 * (as a switch reboot or a pulled cable does), stall them (bytes stop flowing, sockets stay open, as on a
 * dead route), refuse new ones, or delay every chunk (a slow link). Real sockets both sides.
 */
import { createServer, connect } from 'node:net';
import type { Server, Socket } from 'node:net';

export type ProxyMode = 'pass' | 'stall' | 'refuse';

export interface TcpProxy {
  readonly port: number;
  /** Connections currently open through the proxy. */
  readonly connections: number;
  /** Total connections accepted so far. */
  readonly accepted: number;
  setMode(mode: ProxyMode): void;
  /** Delay added to every chunk in both directions (0 = none). */
  setLatency(ms: number): void;
  /** Resets every open connection now (RST both ways). */
  cut(): void;
  close(): Promise<void>;
}

interface Pair {
  client: Socket;
  server: Socket;
}

export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  let mode: ProxyMode = 'pass';
  let latency = 0;
  let accepted = 0;
  const pairs = new Set<Pair>();

  const forward = (from: Socket, to: Socket) => {
    // Chunks go out in order; while stalled they wait (the sockets stay open, nothing moves).
    let chain = Promise.resolve();
    from.on('data', (chunk: Buffer) => {
      chain = chain.then(async () => {
        if (latency > 0) await new Promise((r) => setTimeout(r, latency));
        while (mode === 'stall' && !to.destroyed) await new Promise((r) => setTimeout(r, 20));
        if (!to.destroyed) to.write(chunk);
      });
    });
  };

  const server: Server = createServer((client) => {
    accepted++;
    if (mode === 'refuse') {
      client.resetAndDestroy();
      return;
    }
    const upstream = connect(target.port, target.host);
    const pair = { client, server: upstream };
    pairs.add(pair);
    const end = () => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('error', end);
    upstream.on('error', end);
    client.on('close', end);
    upstream.on('close', end);
    forward(client, upstream);
    forward(upstream, client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;

  return {
    port,
    get connections() {
      return pairs.size;
    },
    get accepted() {
      return accepted;
    },
    setMode(m) {
      mode = m;
    },
    setLatency(ms) {
      latency = ms;
    },
    cut() {
      for (const p of [...pairs]) {
        pairs.delete(p);
        p.client.resetAndDestroy();
        p.server.resetAndDestroy();
      }
    },
    async close() {
      for (const p of pairs) {
        p.client.destroy();
        p.server.destroy();
      }
      pairs.clear();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
