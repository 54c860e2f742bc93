// Every file under a server's data directory, subdirectories included (checkpoint state lives
// in its own folder), for tests that search the data at rest for a secret.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export function dataFiles(dir: string): Array<{ name: string; bytes: Buffer }> {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => {
      const path = join(entry.parentPath, entry.name);
      return { name: path.slice(dir.length + 1), bytes: readFileSync(path) };
    });
}

/** All of the data directory's bytes at once. */
export function dataBytes(dir: string): Buffer {
  return Buffer.concat(dataFiles(dir).map((file) => file.bytes));
}
