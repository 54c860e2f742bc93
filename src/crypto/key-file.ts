// Every key the server uses comes from one 32-byte master key kept apart from the database:
// ATLAS_STREAMS_SECRET_KEY (base64), else the key file beside the database (mode 0600,
// created on first start), else, in memory, a fresh one. The database holds no key, so a
// copy of it (a backup, a support bundle) cannot mint tokens nor open sealed secrets.
//
// The master key seals connection secrets itself (as it always has, so sealed values stay
// readable); the key that signs OAuth tokens and Digest nonces is derived from it (HKDF), so
// that one key file serves both without one use's output revealing the other's key.
import { hkdfSync, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';

const KEY_BYTES = 32;
/** Owner read and write only. */
const PRIVATE_FILE_MODE = 0o600;

function decode(text: string, where: string): Buffer {
  const key = Buffer.from(text.trim(), 'base64');
  if (key.length !== KEY_BYTES) throw new Error(`${where} must hold ${KEY_BYTES} bytes, base64-encoded`);
  return key;
}

export function loadMasterKey(keyFile: string | undefined, fromEnv = process.env['ATLAS_STREAMS_SECRET_KEY']): Buffer {
  if (fromEnv) return decode(fromEnv, 'ATLAS_STREAMS_SECRET_KEY');
  if (!keyFile) return randomBytes(KEY_BYTES);
  if (existsSync(keyFile)) {
    chmodSync(keyFile, PRIVATE_FILE_MODE);
    return decode(readFileSync(keyFile, 'utf8'), keyFile);
  }
  const key = randomBytes(KEY_BYTES);
  // 'wx': should another process create it first, fail rather than overwrite its key.
  writeFileSync(keyFile, key.toString('base64'), { mode: PRIVATE_FILE_MODE, flag: 'wx' });
  return key;
}

/** The key that signs OAuth access tokens and Digest nonces. */
export function signingKeyFrom(master: Buffer): Buffer {
  return Buffer.from(hkdfSync('sha256', master, Buffer.alloc(0), 'atlas-streams-emulator token and nonce signing', KEY_BYTES));
}
