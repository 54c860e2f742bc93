// Which values of a connection definition are secrets: one rule, read by the control plane
// (sealed at rest, masked in responses: domain/streams/connection-secrets.ts) and by the
// engine (masked in every log line and error: engine/runtime/secrets.ts).

/**
 * Field names whose values are secrets: passwords, secrets, tokens, credentials, keys
 * (`apiKey`, `sslKey`, `ssl.key`, but not `key.serializer`), and Kafka's JAAS configuration,
 * which carries a password inside its text (`sasl.jaas.config`).
 */
const SECRET_NAME = /pass|secret|token|credential|api_?key|private|jaas|key$/i;

/** Containers every value of which is a secret: an Https connection's headers (Authorization and the like). */
const SECRET_CONTAINERS = new Set(['headers']);

/** What a secret value is shown as. */
export const SECRET_MASK = '****';

export function isSecretName(name: string): boolean {
  return SECRET_NAME.test(name);
}

export function isSecretContainer(name: string): boolean {
  return SECRET_CONTAINERS.has(name);
}

/** `scheme://user:` (group 1), the password (group 2), `@...` (group 3). */
const URL_USERINFO = /^([a-z+]+:\/\/[^:/@\s]+:)([^@/\s]+)(@[\s\S]*)$/i;

/** The password of a `scheme://user:password@host` string, as written and URL-decoded. */
export function urlPasswords(value: string): string[] {
  const password = URL_USERINFO.exec(value)?.[2];
  if (!password) return [];
  return [password, safeDecode(password)];
}

/** value with its URL password (as urlPasswords finds it) replaced: `https://user:****@host/...` by default. */
export function withUrlPassword(value: string, password = SECRET_MASK): string {
  return value.replace(URL_USERINFO, (_, head: string, _old: string, tail: string) => `${head}${password}${tail}`);
}

function safeDecode(s: string): string {
  try { return decodeURIComponent(s); } catch { return s; }
}
