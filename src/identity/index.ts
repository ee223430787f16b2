/** Per-board identities: serials and credentials into the identity partition, each issued exactly once. */
export { IdentityIssuer, normalizeMac } from './issuer.ts';
export type { BoardIdentity } from './issuer.ts';
export type {
  AllocationRef,
  BoardRef,
  IdentityAllocator,
  IdentityCandidate,
  IssuedIdentity,
  PoolLevel,
  PoolReport,
  PoolStatus,
  PrepareCandidate,
} from './allocator.ts';
export { LocalAllocator } from './local-allocator.ts';
export { buildBoardRegion, regionBase } from './board-region.ts';
export type { BoardRegion, BoardValues, RegionBase } from './board-region.ts';
export { IdentityError } from './errors.ts';
export type { IdentityErrorCode } from './errors.ts';
export { largestSeq, parseSerialPattern, renderSerial } from './serial-pattern.ts';
export type { SerialPattern } from './serial-pattern.ts';
export type {
  CredentialFileTarget,
  CredentialSettings,
  FixedValue,
  IdentitySettings,
  NvsTarget,
  SerialSettings,
} from './settings.ts';
export { formatPoolReport } from './pool-report.ts';
