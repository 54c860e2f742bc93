import { createHash, createHmac, pbkdf2Sync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { deriveCredentials } from '../crypto/scram.js';
import { WireError } from './errors.js';
import { ScramConversation, type ScramUser } from './scram-conversation.js';

const user: ScramUser = { username: 'ann', credentials: deriveCredentials('ann', 'ann-password') };
const lookup = async (name: string) => (name === 'ann' ? user : undefined);

/** A client written from RFC 5802 (and MongoDB's MD5 password digest for SCRAM-SHA-1). */
function clientFinal(mechanism: 'SCRAM-SHA-1' | 'SCRAM-SHA-256', password: string, clientFirstBare: string, serverFirst: string): string {
  const hash = mechanism === 'SCRAM-SHA-1' ? 'sha1' : 'sha256';
  const attrs = Object.fromEntries(serverFirst.split(',').map((p) => [p[0], p.slice(2)]));
  const prepared = mechanism === 'SCRAM-SHA-1' ? createHash('md5').update(`ann:mongo:${password}`).digest('hex') : password;
  const salted = pbkdf2Sync(prepared, Buffer.from(attrs['s']!, 'base64'), Number(attrs['i']), hash === 'sha1' ? 20 : 32, hash);
  const clientKey = createHmac(hash, salted).update('Client Key').digest();
  const storedKey = createHash(hash).update(clientKey).digest();
  const withoutProof = `c=biws,r=${attrs['r']}`;
  const signature = createHmac(hash, storedKey).update(`${clientFirstBare},${serverFirst},${withoutProof}`).digest();
  const proof = Buffer.from(clientKey.map((b, i) => b ^ signature[i]!));
  return `${withoutProof},p=${proof.toString('base64')}`;
}

async function exchange(mechanism: 'SCRAM-SHA-1' | 'SCRAM-SHA-256', username: string, password: string) {
  const conversation = new ScramConversation(mechanism);
  const bare = `n=${username},r=clientnonce123`;
  const serverFirst = (await conversation.start(Buffer.from(`n,,${bare}`), lookup)).toString();
  expect(serverFirst).toMatch(/^r=clientnonce123.+,s=.+,i=\d+$/);
  return () => conversation.finish(Buffer.from(clientFinal(mechanism, password, bare, serverFirst)));
}

describe('ScramConversation', () => {
  it('accepts the right password with either mechanism and signs the exchange', async () => {
    for (const mechanism of ['SCRAM-SHA-1', 'SCRAM-SHA-256'] as const) {
      const { serverFinal, user: who } = (await exchange(mechanism, 'ann', 'ann-password'))();
      expect(serverFinal.toString()).toMatch(/^v=/);
      expect(who.username).toBe('ann');
    }
  });

  it('refuses a wrong password and an unknown user alike', async () => {
    for (const [name, password] of [['ann', 'wrong-password'], ['bob', 'ann-password']] as const) {
      const finish = await exchange('SCRAM-SHA-256', name, password);
      expect(finish).toThrow(WireError);
      expect(finish).toThrow('Authentication failed.');
    }
  });

  it('answers the same salt for an unknown name every time (nothing tells it apart from a user)', async () => {
    const first = (await new ScramConversation('SCRAM-SHA-256').start(Buffer.from('n,,n=bob,r=a'), lookup)).toString().split(',')[1];
    const second = (await new ScramConversation('SCRAM-SHA-256').start(Buffer.from('n,,n=bob,r=b'), lookup)).toString().split(',')[1];
    expect(first).toBe(second);
  });

  it('refuses a malformed first message', async () => {
    await expect(new ScramConversation('SCRAM-SHA-256').start(Buffer.from('garbage'), lookup)).rejects.toThrow(WireError);
  });
});
