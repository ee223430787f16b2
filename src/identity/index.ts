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
  CentralIdentitySettings,
  CredentialFileTarget,
  CredentialSettings,
  FixedValue,
  IdentitySettings,
  NvsTarget,
  RegionSettings,
  SerialSettings,
} from './settings.ts';
export { formatPoolReport } from './pool-report.ts';
export { AllocationBook } from './allocation-book.ts';
export {
  bookCounts,
  commitRecord,
  releaseRecord,
  reusedCandidate,
  writingRecord,
} from './allocation-steps.ts';
export type { Allocation } from './allocation-book.ts';
export { JournalFile } from './journal-file.ts';
export type { JournalRecord, LeaseRecord } from './journal-records.ts';
export type { CredentialFile } from './credential-pool.ts';
