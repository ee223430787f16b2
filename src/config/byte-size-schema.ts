import { z } from 'zod';
import { parseByteSize } from './byte-size.ts';

// Apart from byte-size.ts so that reading an image set (flasher_args.json, download.config) does not load zod.
/** zod schema for a size/offset field; the message says what forms are allowed. */
export const byteSizeSchema = z.union([z.number(), z.string()]).transform((v, ctx) => {
  const n = parseByteSize(v);
  if (n === undefined) {
    ctx.addIssue({
      code: 'custom',
      message: `'${String(v)}' is not a size or offset; write e.g. 0x1000, 4096, 64KB or 4MB`,
    });
    return z.NEVER;
  }
  return n;
});
