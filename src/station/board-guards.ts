/**
 * Guards before the first write, so a board that cannot take this firmware is refused untouched: the chip and
 * its revision and security state (from the ROM, before any upload), then its flash (read through the loader,
 * as esptool does).
 */
import { revisionRefusal } from '../esp/revision-requirement.ts';
import type { BoardIdentity, ImageRegion } from './board-link.ts';
import { chipDisplayName, formatBytes } from './board-format.ts';
import { StationFailure } from './failure.ts';
import type { PipelineFirmware, PipelinePolicy } from './pipeline-policy.ts';

/** Guards on the chip itself, before any code is uploaded: the right chip, a revision the images run on, no
 * security feature the profile does not allow. */
export function checkChip(board: BoardIdentity, firmware: PipelineFirmware, policy: PipelinePolicy): void {
  const want = policy.chip ?? firmware.chip;
  if (want !== undefined && board.chip !== want) {
    throw new StationFailure(
      'wrong-chip',
      `This board is an ${board.displayName}; the profile flashes ${chipDisplayName(want)}. Set it aside for another product.`,
    );
  }
  const revision = revisionRefusal(firmware.revisionRequirements ?? [], board.revision);
  if (revision) {
    throw new StationFailure(
      'chip-revision',
      `${revision}: the firmware would not boot on it. Set the board aside for engineering (another firmware build is needed).`,
    );
  }
  const refused = [
    board.secureBoot && !policy.allowSecureBoot ? 'secure boot' : undefined,
    board.flashEncryption && !policy.allowFlashEncryption ? 'flash encryption' : undefined,
  ].filter((x): x is string => x !== undefined);
  if (refused.length > 0) {
    throw new StationFailure(
      'security-enabled',
      `${refused.join(' and ')} ${refused.length > 1 ? 'are' : 'is'} enabled on this board and the profile does not allow it. Set it aside for engineering; do not retry.`,
    );
  }
}

/** Guards on the flash, before the first write; returns the regions to write for this board's flash size. */
export function checkFlash(
  board: BoardIdentity,
  firmware: PipelineFirmware,
  policy: PipelinePolicy,
  log: (level: 'info' | 'warn' | 'error', message: string) => void,
): readonly ImageRegion[] {
  const need = Math.max(firmware.requiredFlashBytes, policy.minFlashBytes ?? 0);
  if (board.flashSizeBytes === undefined) {
    log('warn', 'flash size unknown (flash id not recognised); cannot check it fits');
  } else if (board.flashSizeBytes < need) {
    throw new StationFailure(
      'flash-too-small',
      `This board has ${formatBytes(board.flashSizeBytes)} of flash; the image set needs ${formatBytes(need)}. Use a module with more flash.`,
    );
  } else if (
    firmware.declaredFlashBytes !== undefined &&
    board.flashSizeBytes < firmware.declaredFlashBytes
  ) {
    throw new StationFailure(
      'flash-too-small',
      `This board has ${formatBytes(board.flashSizeBytes)} of flash; the bootloader header says ${formatBytes(firmware.declaredFlashBytes)} and would refuse to boot. Use a module with that much flash, or set the profile's flash.size to the modules' real size (or detect).`,
    );
  }
  if (board.flashSizeBytes !== undefined) {
    return firmware.regionsFor(board.flashSizeBytes, { secureBoot: board.secureBoot });
  }
  // Size unknown: 'detect' cannot be resolved, the header keeps its own size. Under secure boot the bootloader
  // must stay byte-identical (its signature), which regionsFor takes care of whatever the size.
  return board.secureBoot
    ? firmware.regionsFor(firmware.requiredFlashBytes, { secureBoot: true })
    : firmware.regions;
}
