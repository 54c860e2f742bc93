#!/usr/bin/env node
// Generates the protocol layer from the Atlas Admin API v2 spec:
//   src/protocol/generated/operations.ts  the 89 operations (routes, parameters, versions, roles)
//   src/protocol/generated/schemas.ts     component schemas, trimmed to what validation needs
//   src/protocol/generated/types.ts       TypeScript types of those schemas
// The output is committed so that a checkout builds without the spec beside it;
// `npm run generate -- --check` fails when the committed output is stale.
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const specPath = process.env.ATLAS_SPEC ?? resolve(root, 'spec/atlas-admin-v2-2026-08.yaml');
const outDir = join(root, 'src/protocol/generated');
const check = process.argv.includes('--check');

const spec = parse(readFileSync(specPath, 'utf8'));
const METHODS = ['get', 'post', 'put', 'patch', 'delete'];

// Keys that only document; validation and serialization never read them.
const DOC_KEYS = new Set(['description', 'example', 'examples', 'externalDocs', 'title', 'x-xgen-IPA-exception',
  'x-xgen-changelog', 'x-xgen-docs-url', 'x-xgen-version', 'x-xgen-hidden-env', 'x-sunset', 'x-xgen-owner-team']);

function trim(value) {
  if (Array.isArray(value)) return value.map(trim);
  if (value === null || typeof value !== 'object') return value;
  const out = {};
  for (const [k, v] of Object.entries(value)) {
    if (DOC_KEYS.has(k)) continue;
    if (k === '$ref') { out.$ref = v.replace('#/components/schemas/', ''); continue; }
    // Under `properties` the keys are field names (a field may be called `description`).
    if (k === 'properties' && v && typeof v === 'object') {
      out[k] = Object.fromEntries(Object.entries(v).map(([name, schema]) => [name, trim(schema)]));
      continue;
    }
    out[k] = trim(v);
  }
  return out;
}

function deref(obj) {
  if (obj && obj.$ref) {
    const [, , kind, name] = obj.$ref.split('/');
    return spec.components[kind][name];
  }
  return obj;
}

// The operations whose spec entry carries no `x-rolesRequirements`, with the least roles Atlas
// asks of them (display names, as the requirements write them). Listing projects and
// organizations needs only a login: each caller sees what it has access to.
const UNSTATED_REQUIREMENTS = {
  getSystemStatus: [],
  listControlPlaneAddresses: [],
  listGroups: [],
  listOrgs: ['Organization Member'],
  createGroup: ['Organization Project Creator'],
  getGroupByName: ['Project Read Only'],
  createOrgAccessEntry: ['Organization Owner'],
  deleteAccessEntry: ['Organization Owner'],
};

function roleRequirements(op) {
  if (Array.isArray(op['x-rolesRequirements'])) return { requirements: op['x-rolesRequirements'], source: 'x-rolesRequirements' };
  const stated = UNSTATED_REQUIREMENTS[op.operationId];
  if (!stated) throw new Error(`${op.operationId} has no x-rolesRequirements: add it to UNSTATED_REQUIREMENTS`);
  return { requirements: stated, source: 'generator' };
}

function versionOf(contentType) {
  const m = /^application\/vnd\.atlas\.(\d{4}-\d{2}-\d{2})\+(json|gzip|csv)$/.exec(contentType);
  return m ? { date: m[1], format: m[2] } : undefined;
}

const operations = [];
for (const [path, item] of Object.entries(spec.paths)) {
  for (const method of METHODS) {
    const op = item[method];
    if (!op) continue;
    const parameters = [...(item.parameters ?? []), ...(op.parameters ?? [])].map(deref).map((p) => ({
      name: p.name, in: p.in, required: Boolean(p.required), schema: trim(p.schema ?? {}),
    }));
    const responses = {};
    const versions = new Map();
    for (const [status, rawResponse] of Object.entries(op.responses ?? {})) {
      const response = deref(rawResponse);
      const content = {};
      for (const [type, media] of Object.entries(response.content ?? {})) {
        const v = versionOf(type);
        if (!v) continue;
        content[v.date] = media.schema ? trim(media.schema) : null;
        if (/^2/.test(status)) versions.set(v.date, v.format);
      }
      responses[status] = content;
    }
    const requestBody = op.requestBody ? deref(op.requestBody) : undefined;
    const body = requestBody ? {
      required: Boolean(requestBody.required),
      schemas: Object.fromEntries(Object.entries(requestBody.content ?? {})
        .map(([type, media]) => [versionOf(type)?.date ?? type, trim(media.schema ?? {})])),
    } : undefined;
    const successStatus = Number(Object.keys(op.responses).find((s) => /^2/.test(s)));
    operations.push({
      operationId: op.operationId,
      method: method.toUpperCase(),
      path,
      tag: op.tags?.[0] ?? '',
      summary: op.summary ?? '',
      versions: [...versions.keys()].sort(),
      format: [...versions.values()][0] ?? 'json',
      successStatus,
      parameters,
      requestBody: body,
      responses,
      authorization: roleRequirements(op),
      documentedErrors: Object.keys(op.responses).filter((s) => !/^2/.test(s)).map(Number),
    });
  }
}

const schemas = trim(spec.components.schemas);

// --- TypeScript types -------------------------------------------------------
function tsType(schema, depth = 0) {
  if (!schema || typeof schema !== 'object') return 'unknown';
  if (schema.$ref) return schema.$ref;
  if (schema.enum) return schema.enum.map((v) => JSON.stringify(v)).join(' | ');
  if (schema.oneOf) return schema.oneOf.map((s) => tsType(s, depth)).join(' | ');
  if (schema.allOf) {
    return schema.allOf.map((s) => {
      // A discriminated member refers back to its base, which lists the member again:
      // take only the base's own properties to keep the type finite.
      if (s.$ref && schemas[s.$ref]?.oneOf) return `Omit<${objectType(schemas[s.$ref], depth)}, never>`;
      return tsType(s, depth);
    }).join(' & ');
  }
  switch (schema.type) {
    case 'string': return 'string';
    case 'integer': case 'number': return 'number';
    case 'boolean': return 'boolean';
    case 'array': return `Array<${tsType(schema.items, depth)}>`;
    case 'object': return objectType(schema, depth);
    default: return schema.properties ? objectType(schema, depth) : 'unknown';
  }
}

function objectType(schema, depth) {
  const pad = '  '.repeat(depth + 1);
  const required = new Set(schema.required ?? []);
  // Read-only fields are required in responses but absent from requests: one type serves
  // both, so they are optional here.
  const props = Object.entries(schema.properties ?? {}).map(([name, s]) =>
    `${pad}${/^[A-Za-z_$][\w$]*$/.test(name) ? name : JSON.stringify(name)}${required.has(name) && !s.readOnly ? '' : '?'}: ${tsType(s, depth + 1)};`);
  if (schema.additionalProperties && typeof schema.additionalProperties === 'object') {
    props.push(`${pad}[key: string]: ${tsType(schema.additionalProperties, depth + 1)} | undefined;`);
  } else if (!schema.properties || schema.additionalProperties === true) {
    props.push(`${pad}[key: string]: unknown;`);
  }
  return `{\n${props.join('\n')}\n${'  '.repeat(depth)}}`;
}

const header = `// Generated by scripts/generate-protocol.mjs from spec/atlas-admin-v2-2026-08.yaml. Do not edit.\n`;
const files = {
  'operations.ts': `${header}import type { OperationSpec } from '../operation-spec.js';\n\n` +
    `export const operations: readonly OperationSpec[] = ${JSON.stringify(operations, null, 1)};\n`,
  'schemas.ts': `${header}import type { Schema } from '../operation-spec.js';\n\n` +
    `export const schemas: Readonly<Record<string, Schema>> = ${JSON.stringify(schemas, null, 1)};\n`,
  'types.ts': `${header}/* eslint-disable */\n` + Object.entries(schemas)
    .map(([name, s]) => `export type ${name} = ${tsType(s)};\n`).join('\n') +
    `\nexport type OperationId =\n${operations.map((o) => `  | '${o.operationId}'`).join('\n')};\n`,
};

let stale = [];
for (const [name, text] of Object.entries(files)) {
  const target = join(outDir, name);
  if (check) {
    if (!existsSync(target) || readFileSync(target, 'utf8') !== text) stale.push(name);
  } else {
    writeFileSync(target, text);
  }
}
if (check && stale.length) {
  console.error(`generated protocol is stale: ${stale.join(', ')}; run npm run generate`);
  process.exit(1);
}
console.log(`${check ? 'checked' : 'generated'} ${operations.length} operations, ${Object.keys(schemas).length} schemas`);
