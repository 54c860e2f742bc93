// Connection secrets must never reach a log line or an error message. Every message the
// engine emits goes through redact(), which masks each secret found in the connections.
// Which fields are secrets is one rule shared with the control plane (model/secret-fields.ts).
import { isSecretContainer, isSecretName, SECRET_MASK, urlPasswords } from '../../model/secret-fields.js';
import type { ConnectionDefinition } from '../contract.js';

export function collectSecrets(connections: Record<string, ConnectionDefinition>): string[] {
  const secrets = new Set<string>();
  const visit = (value: unknown, key: string, underSecretKey: boolean) => {
    const secret = underSecretKey || isSecretName(key) || isSecretContainer(key);
    if (typeof value === 'string') {
      if (secret) secrets.add(value);
      for (const password of urlPasswords(value)) secrets.add(password);
    } else if (value && typeof value === 'object') {
      for (const [k, v] of Object.entries(value)) visit(v, k, secret);
    }
  };
  for (const connection of Object.values(connections)) visit(connection, '', false);
  return [...secrets].filter((s) => s.length >= 3).sort((a, b) => b.length - a.length);
}

export function createRedactor(secrets: string[]): (text: string) => string {
  if (secrets.length === 0) return (text) => text;
  return (text) => {
    let out = text;
    for (const secret of secrets) out = out.split(secret).join(SECRET_MASK);
    return out;
  };
}
