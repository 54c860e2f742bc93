// Strict request validation against the spec's schemas, reporting as Atlas does:
// unknown field INVALID_ATTRIBUTE, missing MISSING_ATTRIBUTE, bad enum INVALID_ENUM_VALUE,
// wrong type INVALID_JSON_ATTRIBUTE. Nothing is coerced and nothing is stripped.
import { ApiError, type ErrorCode } from '../http/errors.js';
import { schemas } from './generated/schemas.js';
import type { OperationSpec, ParameterSpec, Schema } from './operation-spec.js';

const compiledPatterns = new Map<string, RegExp>();

/** Spec patterns use Unicode classes (\p{L}), so they compile with the u flag. */
export function matchesPattern(pattern: string, value: string): boolean {
  let regex = compiledPatterns.get(pattern);
  if (!regex) {
    try {
      regex = new RegExp(pattern, 'u');
    } catch {
      // Some spec patterns escape characters the u flag refuses to see escaped (`\:`).
      regex = new RegExp(pattern);
    }
    compiledPatterns.set(pattern, regex);
  }
  return regex.test(value);
}

/** Own keys only: a body may name `constructor` or `__proto__`, which plain lookups would find on Object.prototype. */
function own<T>(record: Readonly<Record<string, T>> | undefined, key: string): T | undefined {
  return record !== undefined && Object.hasOwn(record, key) ? record[key] : undefined;
}

function resolve(schema: Schema): Schema {
  let s = schema;
  while (s.$ref) s = own(schemas, s.$ref) ?? {};
  return s;
}

/** Properties and required names of an object schema, allOf members folded in. */
function objectShape(schema: Schema): { properties: Record<string, Schema>; required: Set<string>; additional: Schema['additionalProperties'] } {
  const properties: Record<string, Schema> = { ...(schema.properties ?? {}) };
  const required = new Set(schema.required ?? []);
  let additional = schema.additionalProperties;
  for (const member of schema.allOf ?? []) {
    const m = resolve(member);
    // A discriminated subtype lists its base in allOf; the base's oneOf lists the subtype
    // again, so only the base's own properties are taken here.
    const shape = objectShape({ ...m, oneOf: undefined });
    Object.assign(properties, shape.properties);
    shape.required.forEach((r) => required.add(r));
    additional ??= shape.additional;
  }
  return { properties, required, additional };
}

function typeOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}

function fits(type: string | undefined, value: unknown): boolean {
  switch (type) {
    case undefined: return true;
    case 'object': return typeOf(value) === 'object';
    case 'array': return Array.isArray(value);
    case 'string': return typeof value === 'string';
    case 'boolean': return typeof value === 'boolean';
    case 'integer': return Number.isInteger(value);
    case 'number': return typeof value === 'number' && Number.isFinite(value);
    default: return true;
  }
}

export interface ValidationContext {
  /** Path parameter values: a read-only body field that merely repeats one is accepted. */
  pathParams: Record<string, string>;
}

export function validateBody(schema: Schema, value: unknown, context: ValidationContext): void {
  check(schema, value, '', context, true);
}

function fieldPath(parent: string, name: string): string {
  return parent ? `${parent}.${name}` : name;
}

/** `checkedTag` names a discriminator property already matched against its mapping. */
function check(raw: Schema, value: unknown, path: string, context: ValidationContext, top: boolean, checkedTag?: string): void {
  const schema = resolve(raw);
  const attribute = path || 'body';
  if (value === null) {
    // A schema may be nullable where another one embeds it; a whole body is never null.
    if (schema.nullable && !top) return;
    throw new ApiError('INVALID_JSON_ATTRIBUTE', [attribute]);
  }
  if (schema.oneOf) return checkOneOf(schema, value, path, context, top);
  const type = schema.type ?? (schema.properties || schema.allOf ? 'object' : undefined);
  if (!fits(type, value)) throw new ApiError('INVALID_JSON_ATTRIBUTE', [attribute]);
  if (schema.enum && !schema.enum.includes(value)) throw new ApiError('INVALID_ENUM_VALUE', [String(value)]);
  switch (type) {
    case 'object': return checkObject(schema, value as Record<string, unknown>, path, context, top, checkedTag);
    case 'array': {
      const items = value as unknown[];
      if (schema.minItems !== undefined && items.length < schema.minItems) throw new ApiError('VALIDATION_ERROR', [attribute, `${items.length} items`]);
      if (schema.maxItems !== undefined && items.length > schema.maxItems) throw new ApiError('VALIDATION_ERROR', [attribute, `${items.length} items`]);
      if (schema.items) items.forEach((item) => check(schema.items!, item, path, context, false));
      return;
    }
    case 'string': return checkString(schema, value as string, attribute);
    case 'integer': case 'number': {
      const n = value as number;
      if ((schema.minimum !== undefined && n < schema.minimum) || (schema.maximum !== undefined && n > schema.maximum)) {
        throw new ApiError('VALIDATION_ERROR', [attribute, n]);
      }
      return;
    }
  }
}

function checkString(schema: Schema, value: string, attribute: string): void {
  if (schema.minLength !== undefined && value.length < schema.minLength) throw new ApiError('VALIDATION_ERROR', [attribute, value]);
  if (schema.maxLength !== undefined && value.length > schema.maxLength) throw new ApiError('VALIDATION_ERROR', [attribute, value]);
  if (schema.pattern && !matchesPattern(schema.pattern, value)) throw new ApiError('VALIDATION_ERROR', [attribute, value]);
  if (schema.format === 'date-time' && !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/.test(value)) {
    throw new ApiError('INVALID_JSON_ATTRIBUTE', [attribute]);
  }
}

function checkOneOf(schema: Schema, value: unknown, path: string, context: ValidationContext, top: boolean): void {
  const discriminator = schema.discriminator;
  if (discriminator) {
    if (typeOf(value) !== 'object') throw new ApiError('INVALID_JSON_ATTRIBUTE', [path || 'body']);
    const tag = (value as Record<string, unknown>)[discriminator.propertyName];
    if (tag === undefined) throw new ApiError('MISSING_ATTRIBUTE', [fieldPath(path, discriminator.propertyName)]);
    // A tag is a name; anything else is the wrong type, not an unknown name (and is not echoed back).
    if (typeof tag !== 'string') throw new ApiError('INVALID_JSON_ATTRIBUTE', [fieldPath(path, discriminator.propertyName)]);
    const target = own(discriminator.mapping, tag);
    if (!target) throw new ApiError('INVALID_ENUM_VALUE', [tag]);
    // The mapping is the authority on the tag: the base's own enum for it may lag (S3).
    return check({ $ref: target.replace('#/components/schemas/', '') }, value, path, context, top, discriminator.propertyName);
  }
  let firstError: unknown;
  for (const member of schema.oneOf ?? []) {
    try {
      return check(member, value, path, context, top);
    } catch (error) {
      firstError ??= error;
    }
  }
  throw firstError;
}

function checkObject(schema: Schema, value: Record<string, unknown>, path: string, context: ValidationContext, top: boolean, checkedTag?: string): void {
  const { properties, required, additional } = objectShape(schema);
  const closed = Object.keys(properties).length > 0 && additional === undefined;
  for (const name of required) {
    // A required read-only field is required in responses; requests never carry it.
    const property = own(properties, name);
    if (property && (property.readOnly || resolve(property).readOnly)) continue;
    if (value[name] === undefined) throw new ApiError('MISSING_ATTRIBUTE', [fieldPath(path, name)]);
  }
  for (const [name, field] of Object.entries(value)) {
    if (name === checkedTag) continue;
    const propertySchema = own(properties, name);
    if (!propertySchema) {
      if (closed || additional === false) throw new ApiError('INVALID_ATTRIBUTE', [fieldPath(path, name)]);
      if (typeof additional === 'object') checkFreeFormValue(additional, field, fieldPath(path, name));
      continue;
    }
    const resolved = resolve(propertySchema);
    if (propertySchema.readOnly || resolved.readOnly) {
      if (name === 'links') continue;
      if (top && context.pathParams[name] !== undefined && context.pathParams[name] === field) continue;
      throw new ApiError('ATTRIBUTE_READ_ONLY', [fieldPath(path, name)]);
    }
    check(propertySchema, field, fieldPath(path, name), context, false);
  }
}

// Values of a free-form map (a Kafka config, a pipeline stage): only a scalar type the
// spec names is enforced, since stage bodies may be strings or numbers ($unset, $limit).
function checkFreeFormValue(schema: Schema, value: unknown, attribute: string): void {
  const s = resolve(schema);
  if ((s.type === 'string' || s.type === 'boolean' || s.type === 'integer' || s.type === 'number') && !fits(s.type, value)) {
    throw new ApiError('INVALID_JSON_ATTRIBUTE', [attribute]);
  }
}

const PATH_PARAMETER_ERRORS: Record<string, ErrorCode> = {
  groupId: 'INVALID_GROUP_ID',
  orgId: 'INVALID_ORG_ID',
  apiUserId: 'INVALID_API_KEY_ID',
};

export function validatePathParams(operation: OperationSpec, params: Record<string, string>): void {
  for (const parameter of operation.parameters) {
    if (parameter.in !== 'path') continue;
    const value = params[parameter.name] ?? '';
    const pattern = parameter.schema.pattern;
    if (value === '' || (pattern && !matchesPattern(pattern, value))) {
      throw new ApiError(PATH_PARAMETER_ERRORS[parameter.name] ?? 'INVALID_PATH_PARAMETER', [value]);
    }
  }
}

export type QueryValues = Record<string, string | number | boolean | undefined>;

/** Parses the operation's declared query parameters by their schemas. Undeclared ones are ignored. */
export function parseQuery(operation: OperationSpec, search: URLSearchParams): QueryValues {
  const out: QueryValues = {};
  for (const parameter of operation.parameters) {
    if (parameter.in !== 'query') continue;
    const raw = search.get(parameter.name);
    if (raw === null) {
      if (parameter.required) throw new ApiError('MISSING_QUERY_PARAMETER', [parameter.name]);
      out[parameter.name] = parameter.schema.default as QueryValues[string];
      continue;
    }
    out[parameter.name] = parseQueryValue(parameter, raw);
  }
  return out;
}

function parseQueryValue(parameter: ParameterSpec, raw: string): string | number | boolean {
  const schema = resolve(parameter.schema);
  const invalid = () => new ApiError('INVALID_QUERY_PARAMETER', [parameter.name]);
  switch (schema.type) {
    case 'boolean':
      if (raw === 'true') return true;
      if (raw === 'false') return false;
      throw invalid();
    case 'integer': case 'number': {
      if (!/^-?\d+(\.\d+)?$/.test(raw)) throw invalid();
      const n = Number(raw);
      if (schema.type === 'integer' && !Number.isInteger(n)) throw invalid();
      if ((schema.minimum !== undefined && n < schema.minimum) || (schema.maximum !== undefined && n > schema.maximum)) throw invalid();
      return n;
    }
    default:
      if (schema.enum && !schema.enum.includes(raw)) throw new ApiError('INVALID_ENUM_VALUE', [raw]);
      if (schema.pattern && !matchesPattern(schema.pattern, raw)) throw invalid();
      return raw;
  }
}
