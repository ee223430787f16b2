/**
 * The baud ladder for one slot: the configured rates its USB bridge holds (esp/usb-bridges.ts), so a board
 * behind a slower bridge starts at the fastest rate that bridge can carry instead of failing at the switch.
 */
import { ladderForBridge, usbBridge } from '../esp/usb-bridges.ts';
import { DEFAULT_BAUD } from '../serial/link-errors.ts';
import type { SlotInfo } from './events.ts';

export function ladderForSlot(
  configured: readonly number[],
  slot: Pick<SlotInfo, 'vid' | 'pid'>,
  log: (level: 'info', message: string) => void,
): readonly number[] {
  const base = configured.length > 0 ? configured : [DEFAULT_BAUD];
  const vid = Number.parseInt(slot.vid, 16);
  const pid = Number.parseInt(slot.pid, 16);
  const ladder = ladderForBridge(base, vid, pid);
  if (ladder[0] !== base[0]) {
    const bridge = usbBridge(vid, pid)!;
    log(
      'info',
      `${bridge.name} holds at most ${bridge.topBaud} baud: starting at ${ladder[0]}, not ${base[0]}`,
    );
  }
  return ladder;
}
