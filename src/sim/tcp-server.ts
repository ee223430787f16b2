import { createServer, type Server, type Socket } from 'node:net';
import type { SimBoard } from './board.ts';

export interface SimServerOptions {
  host?: string;
  /** 0 = any free port. */
  port?: number;
  board: SimBoard;
}

export interface SimServer {
  port: number;
  host: string;
  /** tcp://host:port; clients that speak esptool's `socket://` use the same address. */
  url: string;
  board: SimBoard;
  close(): Promise<void>;
}

/**
 * Serve one simulated board over raw TCP (esptool's `socket://`). There are no reset lines over TCP, so the
 * board powers up in download mode and stays there; its flash is kept across connections while the process
 * runs, and the wire timing follows the baud CHANGE_BAUDRATE set, exactly as on a serial line.
 */
export async function startSimServer(opts: SimServerOptions): Promise<SimServer> {
  const { board } = opts;
  const host = opts.host ?? '127.0.0.1';
  board.powerOn({ download: true });
  let current: Socket | undefined;
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.setNoDelay(true);
    // One client at a time, like one process holding a tty: a new connection replaces the old one.
    current?.destroy();
    current = socket;
    // After a dropped link (disconnect fault) the board is unpowered: a new client finds it in download mode.
    if (board.mode === 'off') board.powerOn({ download: true });
    const link = board.attachHost(
      {
        onData: (bytes) => {
          if (!socket.destroyed) socket.write(bytes);
        },
        onLost: () => socket.destroy(),
      },
      { baud: undefined },
    );
    // Bytes not yet across the simulated wire; reading pauses above this (backpressure without a
    // pause/resume per chunk, which costs syscalls with 32 boards streaming).
    let inFlight = 0;
    socket.on('data', (chunk: Buffer) => {
      inFlight += chunk.length;
      if (inFlight > 0x10000) socket.pause();
      // Socket chunks are fresh buffers: hand them over without a copy.
      link.write(chunk, { transfer: true }).then(
        () => {
          inFlight -= chunk.length;
          if (inFlight <= 0x10000 && socket.isPaused()) socket.resume();
        },
        () => socket.destroy(),
      );
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      sockets.delete(socket);
      if (current === socket) current = undefined;
      link.close();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : (opts.port ?? 0);
  return {
    port,
    host,
    url: `tcp://${host}:${port}`,
    board,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => {
          board.powerOff();
          resolve();
        });
      }),
  };
}

/** Several boards on consecutive ports (port 0: each on any free port), e.g. for the benchmark. */
export async function startSimServers(opts: {
  host?: string;
  port?: number;
  boards: SimBoard[];
}): Promise<SimServer[]> {
  const servers: SimServer[] = [];
  try {
    for (const [i, board] of opts.boards.entries()) {
      servers.push(await startSimServer({ host: opts.host, port: opts.port ? opts.port + i : 0, board }));
    }
  } catch (err) {
    await Promise.all(servers.map((s) => s.close()));
    throw err;
  }
  return servers;
}
