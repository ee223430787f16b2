/** Bytes differ too much in rate to be read: more than ~3 % apart the UART sees framing garbage. */
export function ratesMismatch(a: number, b: number): boolean {
  return Math.abs(a / b - 1) > 0.03;
}
