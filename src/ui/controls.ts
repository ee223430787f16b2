/**
 * What the UI may ask of the station, and what it shows in the header. The UI never reaches further than this:
 * no protocol, no ledger file. The station (src/station) implements StationControls.
 */
export interface StationControls {
  pause(): void;
  resume(): void;
  /**
   * Ends the station cleanly (in-flight boards finish and are recorded); resolves when it is safe to exit.
   * With abortInFlight (also while a stop is under way) boards in flight are failed within seconds, still recorded.
   */
  stop(opts?: { abortInFlight?: boolean }): Promise<void>;
  setOperator(s: string): void;
  setLot(s: string): void;
  /** Boards currently between connect and their recorded result. */
  readonly inFlight: number;
}

export interface StationHeader {
  stationName: string;
  profileName: string;
  /** Recipe fingerprint (sha256 hex); the header shows its first 8 characters. */
  recipeFingerprint: string;
  /** Chip the profile targets, e.g. 'esp32c3' or 'ESP32-C3'. */
  chip: string;
  operator: string;
  lot: string;
  /** The recipe flashes demo/test firmware that must not ship: shown as a big marker. */
  demoFirmware: boolean;
}

/** A configured slot, so the grid shows every slot (empty ones too) in the configured order. */
export interface SlotConfig {
  portPath: string;
  name: string;
}
