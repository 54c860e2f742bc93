import { describe, expect, it } from 'vitest';
import { deriveCredential, deriveCredentials, hmac } from './scram.js';

// RFC 7677 §3: user "user", password "pencil", salt W22ZaJ0SNY7soEsUEjb6gQ==, 4096 iterations.
const AUTH_MESSAGE = 'n=user,r=rOprNGfwEbeRWgbNEkqO,'
  + 'r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096,'
  + 'c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0';

describe('SCRAM stored credentials', () => {
  it("derive RFC 7677's server signature for SCRAM-SHA-256", () => {
    const credential = deriveCredential('SCRAM-SHA-256', 'user', 'pencil', 4096, Buffer.from('W22ZaJ0SNY7soEsUEjb6gQ==', 'base64'));
    const signature = hmac('SCRAM-SHA-256', Buffer.from(credential.serverKey, 'base64'), AUTH_MESSAGE);
    expect(signature.toString('base64')).toBe('6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=');
  });

  it('keep neither the password nor anything that equals it, and salt every derivation afresh', () => {
    const a = deriveCredentials('alice', 'correct horse battery');
    const b = deriveCredentials('alice', 'correct horse battery');
    expect(JSON.stringify(a)).not.toContain('correct horse');
    expect(a['SCRAM-SHA-256'].salt).not.toBe(b['SCRAM-SHA-256'].salt);
    expect(a['SCRAM-SHA-256'].storedKey).not.toBe(b['SCRAM-SHA-256'].storedKey);
    expect(a['SCRAM-SHA-1'].iterationCount).toBeGreaterThanOrEqual(4096);
    expect(a['SCRAM-SHA-256'].iterationCount).toBeGreaterThanOrEqual(4096);
  });
});
