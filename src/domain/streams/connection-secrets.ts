// Secrets the caller writes into a connection's free-form parts (an Https connection's
// headers, Kafka `config` entries such as `sasl.jaas.config`, any field named like a password,
// token or key): sealed at rest and shown as "****" (the engine's mask), by the rule the
// engine's log redaction uses (model/secret-fields.ts). A URL anywhere in the definition
// (an Https `url`, `schemaRegistryUrls`, a config entry) carrying a password in its userinfo is
// sealed whole and shown with only the password masked: `https://user:****@host/path`. The spec's write-only fields (Kafka
// `authentication.password`) are handled apart, in connections.ts: Atlas omits those.
//
// A sealed value is keyed by its path as a JSON array, since config keys contain dots.
// Echoing "****" back in an update keeps the value sealed before (clients read, edit, write).
import type { SecretBox } from '../../crypto/secret-box.js';
import type { Document } from '../../engine/contract.js';
import { isSecretContainer, isSecretName, SECRET_MASK, urlPasswords, withUrlPassword } from '../../model/secret-fields.js';
import { isObject } from './common.js';

type Path = string[];

/**
 * Paths of the scalar values that are secrets by name or by container, and of strings holding
 * a URL password (array items too: `schemaRegistryUrls`), skipping `skip` (write-only paths).
 */
function secretLeaves(doc: Document, skip: ReadonlySet<string>): Array<{ path: Path; onlyUrlPassword: boolean }> {
  const out: Array<{ path: Path; onlyUrlPassword: boolean }> = [];
  const visit = (value: unknown, path: Path, secret: boolean) => {
    if (skip.has(path.join('.'))) return;
    if (isObject(value)) {
      for (const [key, v] of Object.entries(value)) visit(v, [...path, key], secret || isSecretName(key) || isSecretContainer(key));
    } else if (Array.isArray(value)) {
      value.forEach((v, i) => visit(v, [...path, String(i)], secret));
    } else if (secret ? value !== null : typeof value === 'string' && urlPasswords(value).length > 0) {
      out.push({ path, onlyUrlPassword: !secret });
    }
  };
  for (const [key, v] of Object.entries(doc)) {
    // The connection's own `name` and `type` are never secrets.
    if (key !== 'name' && key !== 'type') visit(v, [key], isSecretName(key) || isSecretContainer(key));
  }
  return out;
}

function parent(doc: Document, path: Path): Document {
  let target = doc;
  for (const key of path.slice(0, -1)) {
    if (!isObject(target[key]) && !Array.isArray(target[key])) target[key] = {};
    target = target[key] as Document;
  }
  return target;
}

/** Is this sealed entry's key one of this module's (a JSON array path)? */
export function isLeafKey(key: string): boolean {
  return key.startsWith('[');
}

/**
 * Seals every secret leaf of `shown` (a copy the caller owns) in place: the value goes to the
 * returned map, "****" stays (in a URL, in place of its password). An incoming "****" where
 * `previous` holds a value keeps that value; a URL whose password is "****" keeps the previous
 * URL's password, whatever else in it changed.
 */
export function sealLeaves(shown: Document, box: SecretBox, skip: ReadonlySet<string>, previous: Record<string, string> = {}): Record<string, string> {
  const sealed: Record<string, string> = {};
  for (const { path, onlyUrlPassword } of secretLeaves(shown, skip)) {
    const key = JSON.stringify(path);
    const holder = parent(shown, path);
    const name = path[path.length - 1]!;
    const value = holder[name];
    const before = previous[key];
    if (!onlyUrlPassword) {
      sealed[key] = value === SECRET_MASK && before !== undefined ? before : box.seal(JSON.stringify(value));
      holder[name] = SECRET_MASK;
      continue;
    }
    const url = value as string;
    const kept = urlPasswords(url)[0] === SECRET_MASK && before !== undefined ? urlPasswords(JSON.parse(box.open(before)) as string)[0] : undefined;
    sealed[key] = box.seal(JSON.stringify(kept === undefined ? url : withUrlPassword(url, kept)));
    holder[name] = withUrlPassword(url);
  }
  return sealed;
}

/** Puts one sealed leaf back (for the engine only). */
export function openLeaf(doc: Document, key: string, sealed: string, box: SecretBox): void {
  const path = JSON.parse(key) as Path;
  parent(doc, path)[path[path.length - 1]!] = JSON.parse(box.open(sealed));
}
