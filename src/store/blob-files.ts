// Large binary values (checkpoint state, possibly tens of MB) kept beside the database, not
// in it: writing them into SQLite ran synchronously on the main thread (a 1 MB part took up
// to 290 ms when the WAL was checkpointed, dropping the old value another 275 ms), holding
// every API call meanwhile. Files are written through libuv's thread pool instead, so the
// main thread only waits for completions. The database row that names a value's version
// is what makes it current; a value is written whole (temporary file, then rename) before
// that row is committed.
import { mkdir, readFile, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** A value whole, or in pieces (a large JSON text as it was written out): stored as their concatenation. */
export type BlobData = Uint8Array | readonly Uint8Array[];

export interface BlobStore {
  write(kind: string, owner: string, version: string, data: BlobData): Promise<void>;
  /**
   * The value, possibly the very bytes the store keeps (in memory): the caller must neither
   * change them nor hand them to another thread (transfer), which would empty them.
   */
  read(kind: string, owner: string, version: string): Promise<Uint8Array | undefined>;
  /** The value in memory the caller owns, which it may change or transfer: a copy only where read would share. */
  readOwned(kind: string, owner: string, version: string): Promise<Uint8Array | undefined>;
  /** Deletes one version of the owner's value. */
  delete(kind: string, owner: string, version: string): Promise<void>;
  /** Deletes the owner's values, all of them or all but one version. */
  deleteAll(kind: string, owner: string, exceptVersion?: string): Promise<void>;
}

/** One buffer: for stores that take a value whole (in memory, a database parameter). */
export function wholeBlob(data: BlobData): Uint8Array {
  return data instanceof Uint8Array ? data : Buffer.concat(data);
}

const SAFE = /^[A-Za-z0-9_-]+$/;

function checkName(name: string): string {
  // Names become path segments: nothing that could leave the directory.
  if (!SAFE.test(name)) throw new Error(`invalid blob name ${JSON.stringify(name)}`);
  return name;
}

export function fileBlobStore(directory: string): BlobStore {
  const ownerDir = (kind: string, owner: string) => join(directory, checkName(kind), checkName(owner));
  return {
    async write(kind, owner, version, data) {
      const dir = ownerDir(kind, owner);
      await mkdir(dir, { recursive: true, mode: 0o700 });
      const file = join(dir, checkName(version));
      await writeFile(`${file}.tmp`, data, { mode: 0o600 });
      await rename(`${file}.tmp`, file);
    },
    async read(kind, owner, version) {
      try {
        return await readFile(join(ownerDir(kind, owner), checkName(version)));
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw error;
      }
    },
    // Each read is a fresh buffer from the file.
    readOwned(kind, owner, version) {
      return this.read(kind, owner, version);
    },
    async delete(kind, owner, version) {
      await rm(join(ownerDir(kind, owner), checkName(version)), { force: true });
    },
    async deleteAll(kind, owner, exceptVersion) {
      const dir = ownerDir(kind, owner);
      if (exceptVersion === undefined) {
        await rm(dir, { recursive: true, force: true });
        return;
      }
      const names = await readdir(dir).catch(() => [] as string[]);
      await Promise.all(names.filter((n) => n !== exceptVersion).map((n) => rm(join(dir, n), { force: true })));
    },
  };
}

/**
 * For an in-memory store: the values stay in this process. A read answers the stored bytes
 * themselves: copying them on every read cost what only a caller that hands them to another
 * thread needs (the wire's frame worker, src/wire/render.ts), which asks readOwned.
 */
export function memoryBlobStore(): BlobStore {
  const values = new Map<string, Map<string, Uint8Array>>();
  const key = (kind: string, owner: string) => `${kind}/${owner}`;
  return {
    async write(kind, owner, version, data) {
      const versions = values.get(key(kind, owner)) ?? new Map<string, Uint8Array>();
      versions.set(version, wholeBlob(data));
      values.set(key(kind, owner), versions);
    },
    async read(kind, owner, version) {
      return values.get(key(kind, owner))?.get(version);
    },
    async readOwned(kind, owner, version) {
      const value = values.get(key(kind, owner))?.get(version);
      return value && new Uint8Array(value);
    },
    async delete(kind, owner, version) {
      values.get(key(kind, owner))?.delete(version);
    },
    async deleteAll(kind, owner, exceptVersion) {
      const versions = values.get(key(kind, owner));
      if (!versions) return;
      for (const version of [...versions.keys()]) if (version !== exceptVersion) versions.delete(version);
    },
  };
}
