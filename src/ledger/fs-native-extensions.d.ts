// The two calls of fs-native-extensions the ledger lock uses (the package ships no types).
declare module 'fs-native-extensions' {
  /** Takes an advisory lock on the whole file; false when another open file description holds it. */
  export function tryLock(fd: number, options?: { shared?: boolean }): boolean;
  export function unlock(fd: number): void;
}
