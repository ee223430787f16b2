/** What the keyboard is doing right now: nothing special, an overlay, a question, or a text entry. */
export type UiMode =
  | { kind: 'normal' }
  | { kind: 'help' }
  | { kind: 'yield' }
  | { kind: 'confirm-quit' }
  | { kind: 'stopping'; forced?: boolean }
  | { kind: 'confirm-abort' }
  | { kind: 'entry'; field: 'operator' | 'lot'; value: string; hint?: string };

/** Longest operator or lot we accept; longer input is a scanner gone wrong. */
export const MAX_ENTRY_LENGTH = 64;
