/**
 * What the per-board pipeline is given: the station's policy and what it needs of the prepared firmware. Its own
 * file so the guards (board-guards.ts) and the pipeline read the same types without importing each other.
 */
import type { BoardTestPlan } from '../board-test/plan.ts';
import type { ChipName } from '../esp/chips/chip.ts';
import type { RevisionRequirement } from '../esp/revision-requirement.ts';
import type { BootCheckPolicy } from './boot-check.ts';
import type { ImageRegion } from './board-link.ts';

export interface PipelinePolicy {
  /** The chip the profile flashes; any other is refused before the first write. Unset: any chip (raw images). */
  chip?: ChipName;
  allowSecureBoot: boolean;
  allowFlashEncryption: boolean;
  /** Extra lower bound on detected flash size, on top of what the image set needs. */
  minFlashBytes?: number;
  /** Fastest first, e.g. [921600, 460800, 115200]. */
  baudLadder: readonly number[];
  regionRetries: number;
  boardRetriesPerBaud: number;
  /** Connect attempts in total (each with the next reset strategy); default: one per strategy, at least 2. */
  connectAttempts?: number;
  stub: boolean;
  /** FLASH_DEFL_* (zlib) writes; false sends the bytes as they are. */
  compress: boolean;
  skipUnchanged: boolean;
  /** Erase the whole chip before writing (profile `checks.erase: all`). */
  eraseAll: boolean;
  /** Hard-reset into the firmware after verifying (false: leave the board in the loader). */
  resetAfter: boolean;
  /** What UART0 must show after the reset; needs resetAfter. */
  bootCheck?: BootCheckPolicy;
  /** The post-flash test on the slot's AT port after the reset (src/board-test); needs resetAfter. */
  test?: { plan: BoardTestPlan; requireAtPort: boolean };
}

/** What the pipeline needs of src/firmware's PreparedFirmware. */
export interface PipelineFirmware {
  /** Unset for raw images written as given (any chip). */
  chip?: ChipName;
  requiredFlashBytes: number;
  /** Flash size the bootloader header declares (the bootloader will not boot on a smaller chip). */
  declaredFlashBytes?: number;
  /** Chip revisions the images accept (none: any). */
  revisionRequirements?: readonly RevisionRequirement[];
  /** Regions for this board: flash size patched for 'detect'; the bootloader left unpatched under secure boot. */
  regionsFor(flashSizeBytes: number, board?: { secureBoot?: boolean }): readonly ImageRegion[];
  readonly regions: readonly ImageRegion[];
}
