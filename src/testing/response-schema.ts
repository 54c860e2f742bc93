// Checks a response body against the spec: the operation's documented schema for that status
// and version (ApiError for error statuses). Generic, for any operation's black-box tests.
//
// Reported separately:
// - errors: type, enum, pattern, required, format violations, write-only fields present
//   (secrets must never come back), an undocumented success status;
// - undocumentedStatus: an error status the operation does not list (Atlas answers 406,
//   409, 429 on operations whose spec entry omits them; a test decides);
// - unknown: fields the schema does not name (OpenAPI allows them; a test decides which it
//   expects), as paths with array indexes written `[]`, e.g. `results[].state`.
//
// Free-form maps (additionalProperties) are checked only for scalar value types, as the
// request validator does: the spec's `{type: object}` for pipeline stages and stats values
// would otherwise refuse `{"$limit": 5}` and numeric counters.
import { operationById } from '../protocol/router.js';
import { schemas } from '../protocol/generated/schemas.js';
import { matchesPattern } from '../protocol/validate.js';
import type { Schema } from '../protocol/operation-spec.js';

export interface ResponseCheck {
  errors: string[];
  unknown: string[];
  /** The status is not among the operation's documented responses (the body is still checked). */
  undocumentedStatus?: boolean;
}

function resolve(schema: Schema): Schema {
  let s = schema;
  while (s.$ref) s = schemas[s.$ref.replace('#/components/schemas/', '')] ?? {};
  return s;
}

function typeOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value;
}

function fits(type: string, value: unknown): boolean {
  const actual = typeOf(value);
  return actual === type || (type === 'number' && actual === 'integer');
}

interface Shape {
  properties: Record<string, Schema>;
  required: Set<string>;
  additional: Schema['additionalProperties'];
}

function objectShape(schema: Schema): Shape {
  const properties: Record<string, Schema> = { ...(schema.properties ?? {}) };
  const required = new Set(schema.required ?? []);
  let additional = schema.additionalProperties;
  for (const member of schema.allOf ?? []) {
    const shape = objectShape({ ...resolve(member), oneOf: undefined });
    Object.assign(properties, shape.properties);
    shape.required.forEach((r) => required.add(r));
    additional ??= shape.additional;
  }
  return { properties, required, additional };
}

class Checker {
  readonly errors: string[] = [];
  readonly unknown = new Set<string>();

  /** `checkedTag` names a discriminator property already matched against its mapping. */
  check(raw: Schema, value: unknown, path: string, checkedTag?: string): void {
    const schema = resolve(raw);
    const at = path || '(body)';
    if (value === null) {
      if (!schema.nullable) this.errors.push(`${at}: null where the schema does not allow it`);
      return;
    }
    if (schema.oneOf) return this.checkOneOf(schema, value, path);
    const type = schema.type ?? (schema.properties || schema.allOf ? 'object' : undefined);
    if (type && !fits(type, value)) {
      this.errors.push(`${at}: expected ${type}, got ${typeOf(value)}`);
      return;
    }
    if (schema.enum && !schema.enum.includes(value)) this.errors.push(`${at}: ${JSON.stringify(value)} is not one of ${JSON.stringify(schema.enum)}`);
    if (typeof value === 'string') {
      if (schema.pattern && !matchesPattern(schema.pattern, value)) this.errors.push(`${at}: ${JSON.stringify(value)} does not match ${schema.pattern}`);
      if (schema.format === 'date-time' && Number.isNaN(Date.parse(value))) this.errors.push(`${at}: ${JSON.stringify(value)} is not a date-time`);
    }
    if (Array.isArray(value)) {
      if (schema.items) value.forEach((item) => this.check(schema.items!, item, `${path}[]`));
      return;
    }
    if (type === 'object' || (type === undefined && typeOf(value) === 'object')) this.checkObject(schema, value as Record<string, unknown>, path, checkedTag);
  }

  private checkOneOf(schema: Schema, value: unknown, path: string): void {
    const discriminator = schema.discriminator;
    if (discriminator && typeOf(value) === 'object') {
      const tag = (value as Record<string, unknown>)[discriminator.propertyName];
      const target = typeof tag === 'string' ? discriminator.mapping?.[tag] : undefined;
      if (!target) {
        this.errors.push(`${path || '(body)'}: ${discriminator.propertyName} ${JSON.stringify(tag)} names no subtype`);
        return;
      }
      // The mapping is the authority on the tag: the base's own enum for it may lag (S3).
      return this.check({ $ref: target }, value, path, discriminator.propertyName);
    }
    // Without a discriminator: the first member that fits without errors wins.
    let best: Checker | undefined;
    for (const member of schema.oneOf ?? []) {
      const trial = new Checker();
      trial.check(member, value, path);
      if (trial.errors.length === 0) {
        trial.unknown.forEach((u) => this.unknown.add(u));
        return;
      }
      if (!best || trial.errors.length < best.errors.length) best = trial;
    }
    this.errors.push(`${path || '(body)'}: fits none of the oneOf members (${best?.errors[0] ?? 'none'})`);
  }

  private checkObject(schema: Schema, value: Record<string, unknown>, path: string, checkedTag?: string): void {
    const { properties, required, additional } = objectShape(schema);
    for (const name of required) {
      // A required write-only field (CloudDatabaseUser.groupId) is required in requests; responses never carry it.
      const property = properties[name];
      if (property && (property.writeOnly || resolve(property).writeOnly)) continue;
      if (value[name] === undefined) this.errors.push(`${path ? `${path}.` : ''}${name}: required but absent`);
    }
    for (const [name, field] of Object.entries(value)) {
      if (name === checkedTag) continue;
      const fieldPath = path ? `${path}.${name}` : name;
      const property = properties[name];
      if (!property) {
        if (typeof additional === 'object') {
          const s = resolve(additional);
          if ((s.type === 'string' || s.type === 'boolean' || s.type === 'integer' || s.type === 'number') && !fits(s.type, field)) {
            this.errors.push(`${fieldPath}: expected ${s.type}, got ${typeOf(field)}`);
          }
        } else if (additional !== true) {
          this.unknown.add(fieldPath);
        }
        continue;
      }
      if (property.writeOnly || resolve(property).writeOnly) {
        this.errors.push(`${fieldPath}: write-only field present in a response`);
        continue;
      }
      this.check(property, field, fieldPath);
    }
  }
}

/** The spec types error parameters as objects; Atlas sends strings and numbers (docs/atlas-behaviour.md, "Errors"). */
const API_ERROR: Schema = (() => {
  const base = resolve({ $ref: 'ApiError' });
  return { ...base, properties: { ...base.properties, parameters: { type: 'array', items: {} } } };
})();

/**
 * Checks `body` (parsed JSON, or undefined for an empty body) as the response of
 * `operationId` with `status`, served as `version` (default: the only or latest documented).
 */
export function checkResponse(operationId: string, status: number, body: unknown, version?: string): ResponseCheck {
  const operation = operationById(operationId);
  const byVersion = operation.responses[String(status)];
  const checker = new Checker();
  if (status >= 400) {
    checker.check(API_ERROR, body, '');
    return { errors: checker.errors, unknown: [...checker.unknown], ...(byVersion ? {} : { undocumentedStatus: true }) };
  }
  if (!byVersion) return { errors: [`status ${status} is not documented for ${operationId}`], unknown: [], undocumentedStatus: true };
  const versions = Object.keys(byVersion).sort();
  const served = version ?? versions[versions.length - 1];
  if (served === undefined || !(served in byVersion)) return { errors: [`version ${served} is not documented for ${operationId} ${status}`], unknown: [] };
  const schema = byVersion[served];
  if (schema === null || schema === undefined) {
    // No schema. A 202 or 204 carries nothing (or Atlas's `{}` on 202); a 200 is unchecked.
    if (status === 200) return { errors: [], unknown: [] };
    const empty = body === undefined || (typeOf(body) === 'object' && Object.keys(body as object).length === 0);
    if (!empty) checker.errors.push(`(body): ${operationId} ${status} documents no body, got ${JSON.stringify(body).slice(0, 80)}`);
  } else if (resolve(schema).format === 'binary') {
    // A download: nothing to check as JSON.
  } else {
    checker.check(schema, body, '');
  }
  return { errors: checker.errors, unknown: [...checker.unknown].sort() };
}
