/**
 * Captures quoted in the docs are copies of docs/captures/*.txt between markers, so the script can refresh them
 * and a test can tell when one is stale:
 *
 *   <!-- capture: demo-120x40.txt -->
 *   ```text
 *   …
 *   ```
 *   <!-- /capture -->
 */
const BLOCK = /<!-- capture: (\S+) -->\n```text\n([\s\S]*?)```\n<!-- \/capture -->/g;

/** Each marked block: the capture file it quotes and the text it holds. */
export function quotedCaptures(page: string): Array<{ file: string; text: string }> {
  return [...page.matchAll(BLOCK)].map((m) => ({ file: m[1]!, text: m[2]! }));
}

/** The page with every marked block replaced by its capture file's current text. */
export async function embedCaptures(page: string, read: (file: string) => Promise<string>): Promise<string> {
  let out = '';
  let last = 0;
  for (const m of page.matchAll(BLOCK)) {
    const text = await read(m[1]!);
    out += `${page.slice(last, m.index)}<!-- capture: ${m[1]} -->\n\`\`\`text\n${text.endsWith('\n') ? text : `${text}\n`}\`\`\`\n<!-- /capture -->`;
    last = m.index! + m[0].length;
  }
  return out + page.slice(last);
}
