/**
 * Failure messages carry per-board details (MD5s, addresses, MACs, counts, the tail of a boot log), so on a real
 * line grouping by the exact text splits one cause into one-count rows. The Pareto groups by the message's
 * template — the same sentence with each detail replaced by a placeholder; the board list keeps the full text.
 */
const DETAILS: ReadonlyArray<[RegExp, string]> = [
  // What a board printed is its own: the rest of the parenthesis after "last output:" is one detail.
  [/(last output: )[^)]*/g, '$1…'],
  [/\b[0-9a-f]{32}\b/gi, '‹md5›'],
  [/\b(?:[0-9a-f]{2}:){5}[0-9a-f]{2}\b/gi, '‹mac›'],
  [/\b0x[0-9a-f]+\b/gi, '‹hex›'],
  [/\/dev\/tty\w+/g, '‹tty›'],
  [/socket:\/\/[^\s),;]+/g, '‹port›'],
  // Standalone numbers (not the 32 of ESP32 or the 3 of ESP32-S3): counts, sizes, bauds, seconds.
  [/(?<![\w.-])\d+(?:\.\d+)?(?![\w-])/g, '‹n›'],
];

export function messageTemplate(message: string): string {
  let t = message;
  for (const [re, by] of DETAILS) t = t.replace(re, by);
  return t;
}
