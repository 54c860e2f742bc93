// The seed file: the state a test or a demo starts from, in JSON or YAML. It names what to
// create, in the shapes the Admin API takes; applying it (seed.ts) goes through the API, so a
// seed is validated by the same rules as any client's calls. Exporting (export.ts) writes the
// same format.
import type { LifecycleRuleInput } from '../domain/streams/lifecycles.js';

export type SeedProcessorState = 'CREATED' | 'STARTED' | 'STOPPED';

export interface SeedProcessor {
  name: string;
  pipeline: unknown[];
  options?: Record<string, unknown>;
  /** CREATED (the default), STARTED, or STOPPED (started once, then stopped). */
  state?: SeedProcessorState;
}

export interface SeedWorkspace {
  name: string;
  /** Defaults: AWS, VIRGINIA_USA. */
  cloudProvider?: string;
  region?: string;
  tier?: string;
  /** Create it with the sample connections (sample_stream_solar), as :withSampleConnections does. */
  sampleConnections?: boolean;
  /** Each a createStreamConnection body. */
  connections?: Record<string, unknown>[];
  processors?: SeedProcessor[];
}

export interface SeedApiKey {
  desc: string;
  roles: string[];
}

export interface SeedServiceAccount {
  name: string;
  description: string;
  roles: string[];
  secretExpiresAfterHours?: number;
}

export interface SeedProject {
  /** An existing project of that name is reused (the bootstrap one is "Local-Project"). */
  name: string;
  /** Project API keys, with project roles. */
  apiKeys?: SeedApiKey[];
  workspaces?: SeedWorkspace[];
}

export interface SeedDocument {
  /** Lifecycle rules (transitions that take time), in force before anything else is created. */
  lifecycles?: LifecycleRuleInput[];
  /** Organization API keys, with organization roles. */
  apiKeys?: SeedApiKey[];
  serviceAccounts?: SeedServiceAccount[];
  projects?: SeedProject[];
}

export class SeedError extends Error {
  override readonly name = 'SeedError';
}

type Shape = 'string' | 'array' | 'object' | 'boolean' | 'number';

const FIELDS: Record<string, Record<string, Shape>> = {
  document: { lifecycles: 'array', apiKeys: 'array', serviceAccounts: 'array', projects: 'array' },
  lifecycle: { resource: 'string', transition: 'string', name: 'string', afterSeconds: 'number', afterReads: 'number' },
  apiKey: { desc: 'string', roles: 'array' },
  serviceAccount: { name: 'string', description: 'string', roles: 'array', secretExpiresAfterHours: 'number' },
  project: { name: 'string', apiKeys: 'array', workspaces: 'array' },
  workspace: { name: 'string', cloudProvider: 'string', region: 'string', tier: 'string', sampleConnections: 'boolean', connections: 'array', processors: 'array' },
  processor: { name: 'string', pipeline: 'array', options: 'object', state: 'string' },
};
const REQUIRED: Record<string, string[]> = {
  apiKey: ['desc', 'roles'], serviceAccount: ['name', 'description', 'roles'], project: ['name'], workspace: ['name'],
  processor: ['name', 'pipeline'],
};
const STATES: readonly string[] = ['CREATED', 'STARTED', 'STOPPED'];

function shapeOf(value: unknown): Shape | 'null' | 'other' {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  const type = typeof value;
  return type === 'string' || type === 'boolean' || type === 'number' || type === 'object' ? type : 'other';
}

/** Checks one object against its field table; `where` names it in messages (projects[0].workspaces[1]). */
function checkObject(value: unknown, kind: string, where: string): Record<string, unknown> {
  if (shapeOf(value) !== 'object') throw new SeedError(`${where}: expected an object`);
  const object = value as Record<string, unknown>;
  const fields = FIELDS[kind]!;
  for (const [key, field] of Object.entries(object)) {
    const expected = fields[key];
    if (!expected) throw new SeedError(`${where}: unknown field "${key}" (known: ${Object.keys(fields).join(', ')})`);
    if (shapeOf(field) !== expected) throw new SeedError(`${where}.${key}: expected ${expected === 'array' ? 'an array' : `a ${expected}`}`);
  }
  for (const key of REQUIRED[kind] ?? []) {
    if (object[key] === undefined) throw new SeedError(`${where}.${key}: required`);
  }
  return object;
}

function checkList(value: unknown, kind: string, where: string): void {
  (value as unknown[] | undefined)?.forEach((item, i) => checkObject(item, kind, `${where}[${i}]`));
}

/** Validates a parsed seed document's shape; what the API validates is left to the API. */
export function validateSeedDocument(value: unknown): SeedDocument {
  const doc = checkObject(value ?? {}, 'document', 'seed') as SeedDocument;
  checkList(doc.lifecycles, 'lifecycle', 'lifecycles');
  checkList(doc.apiKeys, 'apiKey', 'apiKeys');
  checkList(doc.serviceAccounts, 'serviceAccount', 'serviceAccounts');
  doc.projects?.forEach((project, p) => {
    checkObject(project, 'project', `projects[${p}]`);
    checkList(project.apiKeys, 'apiKey', `projects[${p}].apiKeys`);
    project.workspaces?.forEach((workspace, w) => {
      const where = `projects[${p}].workspaces[${w}]`;
      checkObject(workspace, 'workspace', where);
      workspace.connections?.forEach((c, i) => {
        if (shapeOf(c) !== 'object') throw new SeedError(`${where}.connections[${i}]: expected an object (a createStreamConnection body)`);
      });
      workspace.processors?.forEach((processor, i) => {
        checkObject(processor, 'processor', `${where}.processors[${i}]`);
        if (processor.state !== undefined && !STATES.includes(processor.state)) {
          throw new SeedError(`${where}.processors[${i}].state: expected one of ${STATES.join(', ')}`);
        }
      });
    });
  });
  return doc;
}

/** Parses seed text: JSON, or YAML (a superset of JSON) for everything else. */
export async function parseSeedText(text: string, source = 'seed'): Promise<SeedDocument> {
  // Loaded here: a server that is given no seed file has no use for the YAML parser's memory.
  const { parse: parseYaml } = await import('yaml');
  let value: unknown;
  try {
    value = parseYaml(text);
  } catch (error) {
    throw new SeedError(`${source}: not valid JSON or YAML: ${(error as Error).message.split('\n')[0]}`);
  }
  try {
    return validateSeedDocument(value);
  } catch (error) {
    if (error instanceof SeedError) throw new SeedError(`${source}: ${error.message}`);
    throw error;
  }
}
