/**
 * `--port` of the one-board commands (flash, info): a local serial device or a raw TCP link
 * (socket://HOST:PORT). The usual mistakes are answered before anything is opened, as bad input (exit 2) with
 * what to give instead: a tty that does not exist (the serial ports that do are listed), one the user may not
 * open (the group to join is named), a device that is not a serial port (/dev/tty0 is a console), tcp:// where
 * socket:// is meant, a socket URL without a port or with one out of range.
 */
import { constants } from 'node:fs';
import { access, readdir, readFile, realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Problem } from '../config/problems.ts';
import { terminalSafe } from '../text/terminal-safe.ts';
import { COMMAND_LINE } from './command-args.ts';

const SOCKET_URL = /^socket:\/\/(\[[^\]]+\]|[^:/\s]+):(\d+)\/?$/;
const EXAMPLE = 'e.g. --port /dev/ttyUSB0 or --port socket://192.168.1.50:4001';

function problem(message: string): Problem {
  return { file: COMMAND_LINE, key: '--port', message };
}

/** What is wrong with a --port value before it is opened, or undefined when it may be tried. */
export async function portArgumentProblem(port: string): Promise<Problem | undefined> {
  const shown = terminalSafe(port);
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(port)?.[1]?.toLowerCase();
  if (scheme === 'tcp' || scheme === 'telnet' || scheme === 'raw') {
    return problem(
      `'${shown}': a raw TCP serial port (ser2net raw mode, esp-station sim) is written socket://HOST:PORT; use ${port.replace(/^[a-z]+:\/\//i, 'socket://')}`,
    );
  }
  if (scheme === 'rfc2217') {
    return problem(
      `'${shown}': RFC 2217 is not supported; set the serial server to raw mode and use socket://HOST:PORT`,
    );
  }
  if (scheme === 'socket') {
    const m = SOCKET_URL.exec(port);
    if (!m) return problem(`'${shown}' is not socket://HOST:PORT (the port number is missing?); ${EXAMPLE}`);
    const n = Number(m[2]);
    if (n < 1 || n > 65535) return problem(`'${shown}': TCP port ${m[2]} is out of range; use 1 to 65535`);
    return undefined;
  }
  if (scheme !== undefined) return problem(`'${shown}': unknown kind of port '${scheme}://'; ${EXAMPLE}`);
  return localPortProblem(port, shown);
}

async function localPortProblem(port: string, shown: string): Promise<Problem | undefined> {
  const st = await stat(port).catch((err: NodeJS.ErrnoException) => err);
  if (st instanceof Error) {
    if (st.code === 'ENOENT' || st.code === 'ENOTDIR') {
      return problem(`${shown} does not exist. ${await serialPortsHere()}`);
    }
    if (st.code === 'EACCES') return problem(`${shown}: permission denied on the path to it`);
    return problem(`${shown}: ${st.code ?? st.message}`);
  }
  if (!st.isCharacterDevice()) {
    return problem(
      `${shown} is ${st.isDirectory() ? 'a folder' : 'not a device'}, not a serial port. ${await serialPortsHere()}`,
    );
  }
  if (!(await isSerialTty(port))) {
    return problem(
      `${shown} is not a serial port (a console or another kind of device). ${await serialPortsHere()}`,
    );
  }
  const denied = await access(port, constants.R_OK | constants.W_OK).then(
    () => false,
    () => true,
  );
  if (denied) {
    const group = await groupName(st.gid);
    return problem(
      `${shown}: permission denied. Add this user to the '${group ?? 'dialout'}' group that owns it ` +
        `(sudo usermod -aG ${group ?? 'dialout'} $USER, then log in again), or add a udev rule for the port`,
    );
  }
  return undefined;
}

/**
 * A tty the kernel backs with a UART or a USB serial device has /sys/class/tty/NAME/device; virtual consoles
 * (tty0, tty1 …), /dev/console and /dev/tty do not. Pseudo-terminals (/dev/pts/N, socat links) are allowed.
 */
async function isSerialTty(port: string): Promise<boolean> {
  const real = await realpath(port).catch(() => port);
  if (real.startsWith('/dev/pts/')) return true;
  const name = path.basename(real);
  const sys = `/sys/class/tty/${name}`;
  if (!(await exists(sys))) return process.platform !== 'linux'; // elsewhere there is no /sys to ask
  return exists(`${sys}/device`);
}

async function exists(p: string): Promise<boolean> {
  return stat(p).then(
    () => true,
    () => false,
  );
}

async function groupName(gid: number): Promise<string | undefined> {
  const text = await readFile('/etc/group', 'utf8').catch(() => '');
  for (const line of text.split('\n')) {
    const [name, , id] = line.split(':');
    if (Number(id) === gid && name) return name;
  }
  return undefined;
}

/** "Serial ports here: /dev/ttyUSB0, /dev/ttyACM0." or what to check when there are none. */
export async function serialPortsHere(): Promise<string> {
  const found = new Set<string>();
  for (const dir of ['/dev/serial/by-id']) {
    for (const n of await readdir(dir).catch(() => [] as string[])) found.add(path.join(dir, n));
  }
  for (const n of await readdir('/dev').catch(() => [] as string[])) {
    if (/^tty(USB|ACM)\d+$/.test(n)) found.add(`/dev/${n}`);
  }
  const list = [...found].sort().slice(0, 12);
  return list.length > 0
    ? `Serial ports here: ${list.map(terminalSafe).join(', ')}.`
    : 'No USB serial ports are visible here: is the board plugged in (and its USB-serial driver loaded)?';
}
