/**
 * What the factory (transport.ts) and every transport share at run time, kept apart from both so that
 * the factory, which loads the transports, is never loaded back by them.
 */

/** The link went away (unplug, socket reset) or was used after close. */
export class DisconnectedError extends Error {
  readonly disconnected = true;
  /** Like EspError's kind: callers that sort failures by kind see a vanished link as one. */
  readonly kind = 'disconnected';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'DisconnectedError';
  }
}

/** The rate every ESP ROM talks at after reset (and prints its boot log at): the default of every link. */
export const DEFAULT_BAUD = 115200;
