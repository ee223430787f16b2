// Module hook for tests: appends the URL of every module the process resolves to a file (one per line).
// Runs on the hooks thread, so it writes the file itself (a message to the main thread could be lost at exit).
import { appendFileSync } from 'node:fs';

let file;

export function initialize(data) {
  file = data.file;
}

export async function resolve(specifier, context, nextResolve) {
  const resolved = await nextResolve(specifier, context);
  appendFileSync(file, `${resolved.url}\n`);
  return resolved;
}
