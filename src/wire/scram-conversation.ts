// The server side of one SCRAM exchange (RFC 5802), as MongoDB runs it over saslStart and
// saslContinue: client-first -> server-first (nonce, salt, iterations) -> client-final with
// the proof -> server-final with the server's signature. Only stored keys are compared;
// the password never reaches the server in any form.
import { createHmac, randomBytes } from 'node:crypto';
import {
  constantTimeEqual, digest, hmac, xor, type ScramCredential, type ScramCredentials, type ScramMechanism,
} from '../crypto/scram.js';
import { MESSAGES, WireError } from './errors.js';

export interface ScramUser {
  username: string;
  credentials: ScramCredentials;
}

/** Decoys for unknown users, stable per name so that probing cannot tell a user exists. */
const decoyKey = randomBytes(32);

function decoyCredential(mechanism: ScramMechanism, username: string): ScramCredential {
  const seed = createHmac('sha256', decoyKey).update(`${mechanism}:${username}`).digest();
  return {
    salt: seed.subarray(0, mechanism === 'SCRAM-SHA-1' ? 16 : 28).toString('base64'),
    iterationCount: mechanism === 'SCRAM-SHA-1' ? 10_000 : 15_000,
    storedKey: randomBytes(32).toString('base64'),
    serverKey: randomBytes(32).toString('base64'),
  };
}

function attributes(message: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of message.split(',')) {
    const eq = part.indexOf('=');
    if (eq === 1) out.set(part[0]!, part.slice(2));
  }
  return out;
}

/** SCRAM's escaping of names: "=2C" is a comma and "=3D" an equals sign. */
function decodeName(value: string): string {
  return value.replace(/=2C/g, ',').replace(/=3D/g, '=');
}

function failed(): WireError {
  return new WireError('AuthenticationFailed', MESSAGES.authenticationFailed());
}

export class ScramConversation<U extends ScramUser = ScramUser> {
  private clientFirstBare = '';
  private serverFirst = '';
  private nonce = '';
  private credential!: ScramCredential;
  private user: U | undefined;
  private gs2Header = '';
  private finished = false;
  username = '';

  constructor(readonly mechanism: ScramMechanism) {}

  /** Reads client-first, returns server-first. `lookup` finds the user by name (undefined: none). */
  async start(payload: Buffer, lookup: (username: string) => Promise<U | undefined>): Promise<Buffer> {
    const text = payload.toString('utf8');
    const first = text.indexOf(',');
    const second = first < 0 ? -1 : text.indexOf(',', first + 1);
    if (second < 0 || !['n', 'y'].includes(text[0]!)) throw new WireError('BadValue', 'invalid SCRAM client-first message');
    this.gs2Header = text.slice(0, second + 1);
    this.clientFirstBare = text.slice(second + 1);
    const attrs = attributes(this.clientFirstBare);
    const name = attrs.get('n');
    const clientNonce = attrs.get('r');
    if (!name || !clientNonce) throw new WireError('BadValue', 'invalid SCRAM client-first message');
    this.username = decodeName(name);
    this.user = await lookup(this.username);
    this.credential = this.user?.credentials[this.mechanism] ?? decoyCredential(this.mechanism, this.username);
    this.nonce = clientNonce + randomBytes(24).toString('base64');
    this.serverFirst = `r=${this.nonce},s=${this.credential.salt},i=${this.credential.iterationCount}`;
    return Buffer.from(this.serverFirst, 'utf8');
  }

  /** Reads client-final, checks the proof, returns server-final; AuthenticationFailed otherwise. */
  finish(payload: Buffer): { serverFinal: Buffer; user: U } {
    if (this.finished || !this.serverFirst) throw failed();
    this.finished = true;
    const text = payload.toString('utf8');
    const proofAt = text.lastIndexOf(',p=');
    if (proofAt < 0) throw failed();
    const withoutProof = text.slice(0, proofAt);
    const attrs = attributes(withoutProof);
    const proof = Buffer.from(text.slice(proofAt + 3), 'base64');
    if (attrs.get('r') !== this.nonce) throw failed();
    if (attrs.get('c') !== Buffer.from(this.gs2Header, 'utf8').toString('base64')) throw failed();
    const authMessage = `${this.clientFirstBare},${this.serverFirst},${withoutProof}`;
    const storedKey = Buffer.from(this.credential.storedKey, 'base64');
    const clientSignature = hmac(this.mechanism, storedKey, authMessage);
    const clientKey = xor(proof, clientSignature);
    if (!this.user || proof.length !== clientSignature.length || !constantTimeEqual(digest(this.mechanism, clientKey), storedKey)) throw failed();
    const serverSignature = hmac(this.mechanism, Buffer.from(this.credential.serverKey, 'base64'), authMessage);
    return { serverFinal: Buffer.from(`v=${serverSignature.toString('base64')}`, 'utf8'), user: this.user };
  }
}
