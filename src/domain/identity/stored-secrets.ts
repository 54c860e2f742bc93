// Stores written by earlier versions kept two things that no longer belong in the database:
// the token and nonce signing key (now derived from the key file, key-file.ts) and the last
// 12 characters of each API private key. Both go on start, in the bootstrap transaction.
// (Tokens signed with the old key stop working; their clients fetch new ones.)
import type { StoreTx } from '../../store/store.js';
import { KIND, type ApiKey } from './model.js';

const LEGACY_SIGNING_KEY = 'signingKey';

export async function dropStoredSecrets(tx: StoreTx): Promise<void> {
  await tx.delete(KIND.setting, LEGACY_SIGNING_KEY);
  for (const key of (await tx.listAll<ApiKey & { privateKeyTail?: string }>(KIND.apiKey)).items) {
    if (key.privateKeyTail === undefined) continue;
    const { privateKeyTail: _dropped, ...kept } = key;
    await tx.update(KIND.apiKey, key.id, kept);
  }
}
