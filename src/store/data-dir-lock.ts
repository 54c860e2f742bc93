// One server per data directory: two would both resume every started processor and run it
// twice. (Several API nodes sharing one database is what the PostgreSQL store is for.)
//
// The lock is an exclusive SQLite lock held on a small lock database for the life of the
// process. SQLite takes it with fcntl() record locks, which the kernel releases when the
// process ends however it ends (exit, crash, SIGKILL), and which a zombie no longer holds;
// a pid file cannot tell a live server from a reused pid or a zombie and so blocked
// restarts. better-sqlite3 is already our store's driver, so this adds no dependency
// (flock/lockfile packages are native add-ons or poll pid files). In one process, SQLite
// tracks locks per file itself, so a second server in the same process is refused too.
//
// `server.lock` beside it only names the holder's pid for the error message; it is never
// trusted to decide anything.
import Database from 'better-sqlite3';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ensurePrivateFile, preparePrivateDir } from './data-dir.js';

export interface DataDirLock {
  release(): void;
}

function isBusy(error: unknown): boolean {
  const code = (error as { code?: string }).code ?? '';
  return code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED');
}

function holderPid(pidFile: string): string {
  try {
    const pid = readFileSync(pidFile, 'utf8').trim();
    return /^\d+$/.test(pid) ? pid : 'unknown';
  } catch {
    return 'unknown';
  }
}

/** Takes the directory's lock, or throws naming the process that holds it. */
export function lockDataDir(dataDir: string): DataDirLock {
  preparePrivateDir(dataDir);
  const lockFile = join(dataDir, 'server.lock.sqlite');
  const pidFile = join(dataDir, 'server.lock');
  ensurePrivateFile(lockFile);
  const db = new Database(lockFile, { timeout: 0 });
  try {
    // In exclusive locking mode the lock taken by BEGIN EXCLUSIVE outlives the transaction.
    db.pragma('locking_mode = EXCLUSIVE');
    db.exec('BEGIN EXCLUSIVE');
    db.exec('COMMIT');
  } catch (error) {
    db.close();
    if (isBusy(error)) throw new Error(`another server (process ${holderPid(pidFile)}) is using the data directory ${dataDir}`);
    throw error;
  }
  writeFileSync(pidFile, String(process.pid), { mode: 0o600 });
  return {
    release() {
      rmSync(pidFile, { force: true });
      // Closing drops the lock; the lock database itself stays (removing it while another
      // process waits on it would let two servers hold locks on two different files).
      db.close();
    },
  };
}
