// The data directory holds the database and the key file: readable by its owner alone.
// The directory is created 0700 and every file in it 0600, whatever the umask says, so that
// no other local user reads the password-equivalent Digest HA1 values or the key file.
import { chmodSync, closeSync, existsSync, mkdirSync, openSync, statSync } from 'node:fs';

export const PRIVATE_DIR_MODE = 0o700;
export const PRIVATE_FILE_MODE = 0o600;

/** Creates the directory 0700, or tightens one this user owns (never a shared, sticky one such as /tmp). */
export function preparePrivateDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: PRIVATE_DIR_MODE });
  const stat = statSync(dir);
  const ownedByUs = typeof process.getuid !== 'function' || stat.uid === process.getuid();
  const sticky = (stat.mode & 0o1000) !== 0;
  if (ownedByUs && !sticky && (stat.mode & 0o077) !== 0) chmodSync(dir, PRIVATE_DIR_MODE);
}

/**
 * Makes sure the file exists with mode 0600 before anyone writes to it (SQLite then gives its
 * -wal and -shm files the database file's mode); an existing file is tightened.
 */
export function ensurePrivateFile(path: string): void {
  if (existsSync(path)) {
    chmodSync(path, PRIVATE_FILE_MODE);
    return;
  }
  closeSync(openSync(path, 'a', PRIVATE_FILE_MODE));
  chmodSync(path, PRIVATE_FILE_MODE);
}

/** Tightens the file if it exists (a -wal or -shm left by an older version). */
export function tightenIfPresent(path: string): void {
  if (existsSync(path)) chmodSync(path, PRIVATE_FILE_MODE);
}
