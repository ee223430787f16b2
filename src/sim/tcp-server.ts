import { createServer, type Server, type Socket } from 'node:net';
import type { SimBoard } from './board.ts';
import type { HostHandlers, HostLink } from './host-link.ts';

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

/** A TCP port serving one board's AT port (ESP-AT's UART1), as ser2net would serve a fixture's AT bridge. */
export type SimAtServer = SimServer;

/** The host end of a board's UART on a socket: bytes out to the client, a lost link closes it. */
function socketHost(socket: Socket): HostHandlers {
  return {
    onData: (bytes) => {
      if (!socket.destroyed) socket.write(bytes);
    },
    onLost: () => socket.destroy(),
  };
}

/**
 * One client at a time on a TCP port, like one process holding a tty: a new connection replaces the old one.
 * `connect` attaches the client to the board and wires its data; the link closes with the socket.
 */
async function serveOneClient(o: {
  host: string;
  port: number;
  board: SimBoard;
  connect: (socket: Socket) => HostLink;
  onClosed?: () => void;
}): Promise<SimServer> {
  let current: Socket | undefined;
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.setNoDelay(true);
    current?.destroy();
    current = socket;
    const link = o.connect(socket);
    socket.on('error', () => {});
    socket.on('close', () => {
      sockets.delete(socket);
      if (current === socket) current = undefined;
      link.close();
    });
  });
  const port = await listen(server, o.host, o.port);
  return {
    port,
    host: o.host,
    url: `tcp://${o.host}:${port}`,
    board: o.board,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => {
          o.onClosed?.();
          resolve();
        });
      }),
  };
}

/**
 * Serve the board's AT port over raw TCP: bytes both ways, no baud on the wire (ser2net sets the line rate at
 * its end). The port speaks once an ESP-AT app in flash has booted and brought it up; one client at a time.
 */
export function startAtServer(opts: { host?: string; port?: number; board: SimBoard }): Promise<SimAtServer> {
  const { board } = opts;
  return serveOneClient({
    host: opts.host ?? '127.0.0.1',
    port: opts.port ?? 0,
    board,
    connect: (socket) => {
      const link = board.attachAtHost(socketHost(socket), { baud: undefined });
      socket.on(
        'data',
        (chunk: Buffer) => void link.write(chunk, { transfer: true }).catch(() => socket.destroy()),
      );
      return link;
    },
  });
}

async function listen(server: Server, host: string, port: number): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  return typeof address === 'object' && address ? address.port : port;
}

/**
 * Serve one simulated board over raw TCP (esptool's `socket://`). There are no reset lines over TCP, so the
 * board powers up in download mode and stays there; its flash is kept across connections while the process
 * runs, and the wire timing follows the baud CHANGE_BAUDRATE set, exactly as on a serial line.
 */
export function startSimServer(opts: SimServerOptions): Promise<SimServer> {
  const { board } = opts;
  board.powerOn({ download: true });
  return serveOneClient({
    host: opts.host ?? '127.0.0.1',
    port: opts.port ?? 0,
    board,
    onClosed: () => board.powerOff(),
    connect: (socket) => {
      // After a dropped link (disconnect fault) the board is unpowered: a new client finds it in download mode.
      if (board.mode === 'off') board.powerOn({ download: true });
      const link = board.attachHost(socketHost(socket), { baud: undefined });
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
      return link;
    },
  });
}

/**
 * Several boards on consecutive ports (port 0: each on any free port), e.g. for the benchmark; with `atPort`,
 * each board's AT port too, on consecutive ports from there (`esp-station sim --at-listen`).
 */
export async function startSimServers(opts: {
  host?: string;
  port?: number;
  boards: SimBoard[];
  atPort?: number;
}): Promise<(SimServer & { at?: SimAtServer })[]> {
  const servers: (SimServer & { at?: SimAtServer })[] = [];
  try {
    for (const [i, board] of opts.boards.entries()) {
      const s: SimServer & { at?: SimAtServer } = await startSimServer({
        host: opts.host,
        port: opts.port ? opts.port + i : 0,
        board,
      });
      servers.push(s);
      if (opts.atPort !== undefined) {
        s.at = await startAtServer({ host: opts.host, port: opts.atPort ? opts.atPort + i : 0, board });
      }
    }
  } catch (err) {
    await Promise.all(servers.flatMap((s) => [s.close(), ...(s.at ? [s.at.close()] : [])]));
    throw err;
  }
  return servers;
}
