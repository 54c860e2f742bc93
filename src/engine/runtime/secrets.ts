// Connection secrets must never reach a log line or an error message. Every message the
// engine emits goes through redact(), which masks each secret found in the connections.
import type { ConnectionDefinition } from '../contract.js';

const SECRET_KEY = /pass|secret|token|credential|apikey|api_key|private/i;
const MASK = '****';

export function collectSecrets(connections: Record<string, ConnectionDefinition>): string[] {
  const secrets = new Set<string>();
  const visit = (value: unknown, key: string, underSecretKey: boolean) => {
    if (typeof value === 'string') {
      if (underSecretKey || SECRET_KEY.test(key) || key === 'headers') secrets.add(value);
      for (const password of urlPasswords(value)) secrets.add(password);
    } else if (value && typeof value === 'object') {
      for (const [k, v] of Object.entries(value)) visit(v, k, underSecretKey || SECRET_KEY.test(key) || key === 'headers');
    }
  };
  for (const connection of Object.values(connections)) visit(connection, '', false);
  return [...secrets].filter((s) => s.length >= 3).sort((a, b) => b.length - a.length);
}

function urlPasswords(value: string): string[] {
  const match = /^[a-z+]+:\/\/[^:/@\s]+:([^@/\s]+)@/i.exec(value);
  if (!match?.[1]) return [];
  return [match[1], safeDecode(match[1])];
}

function safeDecode(s: string): string {
  try { return decodeURIComponent(s); } catch { return s; }
}

export function createRedactor(secrets: string[]): (text: string) => string {
  if (secrets.length === 0) return (text) => text;
  return (text) => {
    let out = text;
    for (const secret of secrets) out = out.split(secret).join(MASK);
    return out;
  };
}
