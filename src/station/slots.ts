/**
 * The slots' lifecycle: a board arriving in a slot, leaving it, or coming back under another tty after its own
 * reset (native USB). Decides when a slot gets a new attempt; the station (station.ts) runs the attempts.
 */
import { ESPRESSIF_USB_VID } from '../esp/usb-ids.ts';
import { atBridgePaths, atPortRuleFor, type AtPortConfig } from './detect/at-pairing.ts';
import { hex4, type BridgeDevice } from './detect/bridge-device.ts';
import type { BoardInfo, SlotInfo, SlotState, StationEvent } from './events.ts';
import { StationAbort } from './failure.ts';
import type { PipelineEvent } from './pipeline.ts';

export interface SlotRuntime extends SlotInfo {
  state: SlotState;
  present: boolean;
  busy: boolean;
  awaitingRemoval: boolean;
  attempt: number;
  board?: BoardInfo;
  baud?: number;
  controller?: AbortController;
  queuedTask: boolean;
  /** A board plugged in while the previous one's aborted attempt is still being recorded. */
  pendingAttach?: BridgeDevice;
  /** A native-USB board vanished after its reset; its removal takes effect when this timer fires. */
  reenumerationTimer?: NodeJS.Timeout;
  /** The AT port detection paired from the board's own USB device (another interface). */
  atTty?: string;
}

/** Espressif's own USB (USB-Serial/JTAG, USB-OTG ROM CDC): the chip itself is the USB device. */
const NATIVE_USB_VID = hex4(ESPRESSIF_USB_VID);

export interface SlotsOptions {
  /** Named slots by USB port path; boards on other ports get a slot named after the port path. */
  names?: readonly { name: string; usbPath: string }[];
  publish(e: StationEvent): void;
  now(): number;
  /** False once the station is stopping: a board arriving then is not started. */
  accepting(): boolean;
  /** Queue an attempt for a board that just arrived in this slot. */
  enqueue(slot: SlotRuntime): void;
  /** How long a native-USB board's removal after its reset is held (see StationOptions). */
  reenumerationGraceMs?: number;
  /** Where each slot's AT port is (config.yaml `atPort`); unset: no slot has one. */
  atPorts?: AtPortConfig;
}

export class Slots {
  private readonly slots = new Map<string, SlotRuntime>();
  private readonly names = new Map<string, string>();
  /** USB port of a second bridge → the slot (port path) whose AT port it is. */
  private readonly atBridgeOwners: Map<string, string>;
  /** Those second bridges' current ttys. */
  private readonly atBridgeTtys = new Map<string, string>();

  constructor(private readonly opts: SlotsOptions) {
    for (const s of opts.names ?? []) this.names.set(s.usbPath, s.name);
    this.atBridgeOwners = opts.atPorts ? atBridgePaths(opts.atPorts) : new Map();
  }

  values(): IterableIterator<SlotRuntime> {
    return this.slots.values();
  }

  /** The configured slots exist from the start, plugged or not. */
  createConfigured(): void {
    for (const [usbPath, name] of this.names) this.ensure(usbPath, name);
  }

  ensure(portPath: string, name?: string): SlotRuntime {
    let slot = this.slots.get(portPath);
    if (!slot) {
      slot = {
        portPath,
        name: name ?? this.names.get(portPath) ?? portPath,
        tty: '',
        vid: '',
        pid: '',
        state: 'empty',
        present: false,
        busy: false,
        awaitingRemoval: false,
        attempt: 0,
        queuedTask: false,
      };
      this.slots.set(portPath, slot);
    }
    return slot;
  }

  info(s: SlotRuntime): SlotInfo {
    return {
      portPath: s.portPath,
      name: s.name,
      tty: s.tty,
      vid: s.vid,
      pid: s.pid,
      ...(s.usbSerial !== undefined && { usbSerial: s.usbSerial }),
      ...this.atPortOf(s),
    };
  }

  /** The slot's AT port now, or why the one config.yaml names is not there. */
  private atPortOf(s: SlotRuntime): Pick<SlotInfo, 'atPort' | 'atPortMissing'> {
    const rule = this.opts.atPorts && atPortRuleFor(this.opts.atPorts, s.portPath);
    if (rule === undefined) return {};
    if ('url' in rule) return { atPort: rule.url };
    if ('usbPath' in rule) {
      const tty = this.atBridgeTtys.get(rule.usbPath);
      return tty
        ? { atPort: tty }
        : { atPortMissing: `its AT bridge at USB port ${rule.usbPath} is not plugged in` };
    }
    return s.atTty
      ? { atPort: s.atTty }
      : {
          atPortMissing: `its USB device has no tty at interface ${rule.interface} (a single-channel bridge?)`,
        };
  }

  /** A second bridge that is a slot's AT port arrived or left: no slot of its own, only noted. */
  private atBridge(portPath: string, tty: string | undefined): void {
    const owner = this.atBridgeOwners.get(portPath)!;
    if (tty === undefined) this.atBridgeTtys.delete(portPath);
    else this.atBridgeTtys.set(portPath, tty);
    this.opts.publish({
      type: 'log',
      time: this.opts.now(),
      slot: owner,
      level: tty === undefined ? 'warn' : 'info',
      message:
        tty === undefined
          ? `AT port bridge at USB port ${portPath} removed: this slot's boards are not tested on the AT port`
          : `AT port bridge at USB port ${portPath} is ${tty}`,
    });
    const slot = this.slots.get(owner);
    if (slot?.present) {
      this.opts.publish({
        type: 'slot-attached',
        time: this.opts.now(),
        slot: owner,
        slotInfo: this.info(slot),
      });
    }
  }

  setState(
    slot: SlotRuntime,
    state: SlotState,
    extra: Partial<PipelineEvent & { type: 'state' }> = {},
  ): void {
    slot.state = state;
    if (extra.board) slot.board = extra.board;
    if (extra.baud !== undefined) slot.baud = extra.baud;
    this.opts.publish({
      type: 'state',
      time: this.opts.now(),
      slot: slot.portPath,
      state,
      attempt: slot.attempt,
      ...(slot.board && { board: slot.board }),
      ...(slot.baud !== undefined && { baud: slot.baud }),
      ...(extra.message !== undefined && { message: extra.message }),
    });
  }

  attached(d: BridgeDevice): void {
    if (this.atBridgeOwners.has(d.portPath)) return this.atBridge(d.portPath, d.tty);
    if (!this.opts.accepting()) return;
    const slot = this.ensure(d.portPath);
    if (slot.busy && !slot.present) {
      // The previous board was pulled and its attempt is still winding down: one attempt per slot at a time.
      slot.pendingAttach = d;
      return;
    }
    if (slot.reenumerationTimer) {
      clearTimeout(slot.reenumerationTimer);
      delete slot.reenumerationTimer;
      if (d.usbSerial !== undefined && d.usbSerial === slot.usbSerial && d.vid === slot.vid) {
        // The same chip is back after its reset: follow its new tty, keep its result, never flash it again.
        this.opts.publish({
          type: 'log',
          time: this.opts.now(),
          slot: slot.portPath,
          level: 'info',
          message: `native USB board re-enumerated as ${d.tty}`,
        });
      } else {
        // Another board: the held removal of the previous one happens now.
        this.removeBoard(slot);
      }
    }
    if (slot.present) {
      // Same physical port seen again without a removal in between (a re-enumerated native-USB board, a source
      // repeating itself, an AT port's tty made late): follow its ttys, never start a second attempt.
      if (slot.tty !== d.tty || slot.atTty !== d.atTty) {
        slot.tty = d.tty;
        if (d.atTty !== undefined) slot.atTty = d.atTty;
        else delete slot.atTty;
        this.opts.publish({
          type: 'slot-attached',
          time: this.opts.now(),
          slot: slot.portPath,
          slotInfo: this.info(slot),
        });
      }
      return;
    }
    Object.assign(slot, { tty: d.tty, vid: d.vid, pid: d.pid, present: true, awaitingRemoval: false });
    if (d.atTty !== undefined) slot.atTty = d.atTty;
    else delete slot.atTty;
    if (d.usbSerial !== undefined) slot.usbSerial = d.usbSerial;
    else delete slot.usbSerial;
    delete slot.board;
    delete slot.baud;
    this.opts.publish({
      type: 'slot-attached',
      time: this.opts.now(),
      slot: slot.portPath,
      slotInfo: this.info(slot),
    });
    this.setState(slot, 'detected');
    this.opts.enqueue(slot);
  }

  detached(portPath: string): void {
    if (this.atBridgeOwners.has(portPath)) return this.atBridge(portPath, undefined);
    const slot = this.slots.get(portPath);
    if (slot?.pendingAttach) {
      delete slot.pendingAttach;
      return;
    }
    if (!slot || !slot.present || slot.reenumerationTimer) return;
    // Resets happen while connecting (into download mode) and at the end (into the new firmware).
    const afterReset =
      slot.awaitingRemoval ||
      slot.state === 'connecting' ||
      slot.state === 'resetting' ||
      slot.state === 'boot-check' ||
      slot.state === 'testing';
    if (slot.vid === NATIVE_USB_VID && slot.usbSerial !== undefined && afterReset) {
      slot.reenumerationTimer = setTimeout(() => {
        delete slot.reenumerationTimer;
        this.removeBoard(slot);
      }, this.opts.reenumerationGraceMs ?? 5000);
      return;
    }
    this.removeBoard(slot);
  }

  /** Held removals are dropped when the station stops (nothing is left to show them to). */
  clearReenumerationTimers(): void {
    for (const slot of this.slots.values()) {
      if (slot.reenumerationTimer) {
        clearTimeout(slot.reenumerationTimer);
        delete slot.reenumerationTimer;
      }
    }
  }

  private removeBoard(slot: SlotRuntime): void {
    if (!slot.present) return;
    const portPath = slot.portPath;
    const wasBusy = slot.busy || slot.queuedTask;
    slot.present = false;
    slot.awaitingRemoval = false;
    slot.controller?.abort(new StationAbort('unplugged', 'board unplugged'));
    this.opts.publish({ type: 'slot-detached', time: this.opts.now(), slot: portPath, wasBusy });
    if (!slot.busy) this.setState(slot, 'empty');
  }
}
