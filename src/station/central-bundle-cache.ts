/**
 * The credential files of the identities a station leased from a central pool, kept on the station's own disk
 * (a folder beside its identity journal, readable by the station's user only) so it can issue them while the
 * database is away. Written and fsynced before the journal names the lease; read back against the SHA-256 the
 * journal recorded, so a file changed on disk is never issued.
 */
import { createHash } from 'node:crypto';
import { mkdir, open, readFile, rename } from 'node:fs/promises';
import path from 'node:path';
import { IdentityError } from '../identity/index.ts';
import type { CredentialFile } from '../identity/index.ts';

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

export class BundleCache {
  constructor(readonly dir: string) {}

  /** Beside the journal: <journal>.files/ */
  static besideJournal(journal: string): BundleCache {
    return new BundleCache(`${journal}.files`);
  }

  private folder(poolId: string): string {
    // Ids are the pool's words (serials, bundle names): encoded, so none can climb out of the folder.
    return path.join(this.dir, encodeURIComponent(poolId));
  }

  /** Durable when it resolves. */
  async store(poolId: string, files: readonly CredentialFile[]): Promise<void> {
    const folder = this.folder(poolId);
    await mkdir(folder, { recursive: true, mode: 0o700 });
    for (const f of files) {
      const file = path.join(folder, encodeURIComponent(f.member));
      const temp = `${file}.tmp`;
      const h = await open(temp, 'w', 0o600);
      try {
        await h.writeFile(f.bytes);
        await h.sync();
      } finally {
        await h.close();
      }
      await rename(temp, file);
    }
    await syncDirectory(folder);
    await syncDirectory(this.dir);
  }

  /** The files as the journal recorded them (member → SHA-256); anything else is refused. */
  async read(poolId: string, expected: Record<string, string>): Promise<CredentialFile[]> {
    const files: CredentialFile[] = [];
    for (const [member, hash] of Object.entries(expected)) {
      const file = path.join(this.folder(poolId), encodeURIComponent(member));
      let bytes: Uint8Array;
      try {
        bytes = new Uint8Array(await readFile(file));
      } catch (err) {
        throw new IdentityError(
          'bundle-changed',
          `identity ${poolId}: ${file} cannot be read (${(err as NodeJS.ErrnoException).code ?? String(err)}); the station's copy of its leased files is damaged — restore it from a backup`,
        );
      }
      const got = sha256(bytes);
      if (got !== hash) {
        throw new IdentityError(
          'bundle-changed',
          `identity ${poolId}: ${member} changed on this station's disk (SHA-256 ${hash.slice(0, 12)}… when leased, ${got.slice(0, 12)}… now); restore ${file}`,
        );
      }
      files.push({ member, bytes, sha256: got });
    }
    return files;
  }
}

async function syncDirectory(dir: string): Promise<void> {
  const h = await open(dir, 'r');
  try {
    await h.sync();
  } finally {
    await h.close();
  }
}
