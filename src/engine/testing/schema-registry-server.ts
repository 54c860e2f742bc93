// A Confluent-compatible schema registry stand-in: the calls the engine makes (schema by id,
// register under a subject, look a schema up under a subject), Basic auth when given
// credentials, and every request recorded.
import { startHttpServer } from './https-server.js';

export interface TestSchemaRegistry {
  url: string;
  requests: Array<{ method: string; url: string; headers: Record<string, string | string[] | undefined> }>;
  /** Stores `schema` under `subject` (as a registry would on POST /subjects/{subject}/versions); returns its id. */
  register(subject: string, schema: object): number;
  /** The ids registered under `subject`, oldest first. */
  subjectIds(subject: string): number[];
  stop(): Promise<void>;
}

export async function startSchemaRegistry(credentials?: { username: string; password: string }): Promise<TestSchemaRegistry> {
  const schemas = new Map<number, string>();
  const subjects = new Map<string, number[]>();
  let nextId = 1;
  const register = (subject: string, schema: string): number => {
    let id = [...schemas].find(([, text]) => text === schema)?.[0];
    if (id === undefined) schemas.set((id = nextId++), schema);
    const ids = subjects.get(subject) ?? [];
    if (!ids.includes(id)) subjects.set(subject, [...ids, id]);
    return id;
  };
  const expected = credentials && `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64')}`;
  const server = await startHttpServer((req, res, body) => {
    const answer = (status: number, json: object) => {
      res.writeHead(status, { 'content-type': 'application/vnd.schemaregistry.v1+json' }).end(JSON.stringify(json));
    };
    if (expected && req.headers.authorization !== expected) return answer(401, { error_code: 401, message: 'Unauthorized' });
    const url = req.url ?? '';
    const byId = /^\/schemas\/ids\/(\d+)$/.exec(url);
    if (req.method === 'GET' && byId) {
      const schema = schemas.get(Number(byId[1]));
      return schema ? answer(200, { schema }) : answer(404, { error_code: 40403, message: 'Schema not found' });
    }
    const subject = /^\/subjects\/([^/]+)(\/versions)?$/.exec(url);
    if (req.method === 'POST' && subject) {
      const name = decodeURIComponent(subject[1]!);
      const schema = JSON.stringify(JSON.parse((JSON.parse(body) as { schema: string }).schema));
      if (subject[2]) return answer(200, { id: register(name, schema) });
      const id = (subjects.get(name) ?? []).find((candidate) => schemas.get(candidate) === schema);
      return id === undefined ? answer(404, { error_code: 40403, message: 'Schema not found' }) : answer(200, { subject: name, id, version: 1, schema });
    }
    return answer(404, { error_code: 404, message: 'Not found' });
  });
  return {
    url: server.url,
    requests: server.requests,
    register: (subject, schema) => register(subject, JSON.stringify(schema)),
    subjectIds: (subject) => subjects.get(subject) ?? [],
    stop: server.stop,
  };
}
