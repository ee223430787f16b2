/**
 * The rooms of src/ and their floors, top to bottom (docs/architecture.md explains each). A room imports only
 * rooms on lower floors; rooms on one floor do not import each other. A new directory under src/ must be
 * placed here before it may hold code, and rooms planned by open issues are placed already, so new code lands
 * on the right floor.
 */
export const FLOORS: readonly (readonly string[])[] = [
  ['cli'],
  ['ui', 'sim-station', 'firmware'],
  ['station', 'sim', 'config'],
  ['identity', 'report', 'esp', 'central', 'board-test'],
  ['ledger', 'nvs', 'serial'],
  // Text rules every room may apply (terminal-safe output).
  ['text'],
];

/** Floor number of each room: 0 is the top (cli). */
export const FLOOR_OF: ReadonlyMap<string, number> = new Map(
  FLOORS.flatMap((rooms, floor) => rooms.map((room) => [room, floor] as const)),
);
