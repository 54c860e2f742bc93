// Secrets the caller writes into a connection's free-form parts (an Https connection's
// headers, Kafka `config` entries such as `sasl.jaas.config`, any field named like a password,
// token or key): sealed at rest and shown as "****" (the engine's mask), by the rule the
// engine's log redaction uses (model/secret-fields.ts). The spec's write-only fields (Kafka
// `authentication.password`) are handled apart, in connections.ts: Atlas omits those.
//
// A sealed value is keyed by its path as a JSON array, since config keys contain dots.
// Echoing "****" back in an update keeps the value sealed before (clients read, edit, write).
import type { SecretBox } from '../../crypto/secret-box.js';
import type { Document } from '../../engine/contract.js';
import { isSecretContainer, isSecretName, SECRET_MASK } from '../../model/secret-fields.js';
import { isObject } from './common.js';

type Path = string[];

/** Paths of the scalar values that are secrets by name or by container, skipping `skip` (write-only paths). */
function secretLeaves(doc: Document, skip: ReadonlySet<string>): Path[] {
  const out: Path[] = [];
  const visit = (value: unknown, path: Path, secret: boolean) => {
    if (skip.has(path.join('.'))) return;
    if (isObject(value)) {
      for (const [key, v] of Object.entries(value)) visit(v, [...path, key], secret || isSecretName(key) || isSecretContainer(key));
    } else if (secret && value !== null && typeof value !== 'object') {
      out.push(path);
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
    if (!isObject(target[key])) target[key] = {};
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
 * returned map, "****" stays. An incoming "****" where `previous` holds a value keeps that value.
 */
export function sealLeaves(shown: Document, box: SecretBox, skip: ReadonlySet<string>, previous: Record<string, string> = {}): Record<string, string> {
  const sealed: Record<string, string> = {};
  for (const path of secretLeaves(shown, skip)) {
    const key = JSON.stringify(path);
    const holder = parent(shown, path);
    const value = holder[path[path.length - 1]!];
    if (value === SECRET_MASK && previous[key] !== undefined) sealed[key] = previous[key];
    else sealed[key] = box.seal(JSON.stringify(value));
    holder[path[path.length - 1]!] = SECRET_MASK;
  }
  return sealed;
}

/** Puts one sealed leaf back (for the engine only). */
export function openLeaf(doc: Document, key: string, sealed: string, box: SecretBox): void {
  const path = JSON.parse(key) as Path;
  parent(doc, path)[path[path.length - 1]!] = JSON.parse(box.open(sealed));
}
