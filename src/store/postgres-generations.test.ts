// Two stores on one schema, as two nodes: what one commits moves the other's generations once
// it catches up (what every cached answer and credential check is kept by), and only then;
// writes of credential-free kinds leave the identity generation as it was.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPostgresStore, type PostgresStore } from './postgres.js';
import type { StoreTx } from './store.js';
import { createTestSchema, SKIP_MESSAGE, testDatabaseUrl, type TestSchema } from '../testing/postgres.js';

const serverUrl = testDatabaseUrl();
if (!serverUrl) console.warn(SKIP_MESSAGE);

describe.skipIf(!serverUrl)('generations shared by the nodes of one database', () => {
  let schema: TestSchema;
  let reader: PostgresStore;
  let writer: PostgresStore;
  beforeAll(async () => {
    schema = await createTestSchema(serverUrl!);
    const credentialFreeKinds = new Set(['connection']);
    reader = await openPostgresStore({ url: schema.url, credentialFreeKinds });
    writer = await openPostgresStore({ url: schema.url, credentialFreeKinds });
    await reader.catchUp();
  });
  afterAll(async () => {
    await Promise.all([reader?.close(), writer?.close()]);
    await schema?.drop();
  });

  /** The reader's generations before and after it catches up with write, committed by the writer. */
  const around = async (write: (tx: StoreTx) => Promise<unknown>) => {
    const before = { entity: reader.generation(), identity: reader.identityGeneration() };
    await writer.transaction(write).catch((error: Error) => expect(error.message).toBe('rolled back'));
    const unseen = { entity: reader.generation(), identity: reader.identityGeneration() };
    await reader.catchUp();
    return { before, unseen, after: { entity: reader.generation(), identity: reader.identityGeneration() } };
  };

  it("moves the entity generation for another node's write of a credential-free kind, and not the identity one", async () => {
    const { before, unseen, after } = await around((tx) => tx.insert('connection', { id: 'c', parentId: 'w', name: 'c' }, { v: 1 }));
    expect(unseen).toEqual(before);
    expect(after.entity).toBeGreaterThan(before.entity);
    expect(after.identity).toBe(before.identity);
    for (const write of [
      (tx: StoreTx) => tx.update('connection', 'c', { v: 2 }),
      (tx: StoreTx) => tx.put('connection', { id: 'd', parentId: 'w' }, { v: 1 }),
      (tx: StoreTx) => tx.delete('connection', 'c'),
      (tx: StoreTx) => tx.deleteChildren('connection', 'w'),
    ]) {
      const moved = await around(write);
      expect(moved.after.entity).toBeGreaterThan(moved.before.entity);
      expect(moved.after.identity).toBe(moved.before.identity);
    }
  });

  it("moves both for another node's write of any other kind", async () => {
    for (const write of [
      (tx: StoreTx) => tx.insert('apiKey', { id: 'k' }, { v: 1 }),
      (tx: StoreTx) => tx.update('apiKey', 'k', { v: 2 }),
      (tx: StoreTx) => tx.insertOnce('revokedToken', 'j', Date.now() + 60_000),
      (tx: StoreTx) => tx.delete('apiKey', 'k'),
    ]) {
      const { before, after } = await around(write);
      expect(after.entity).toBeGreaterThan(before.entity);
      expect(after.identity).toBeGreaterThan(before.identity);
    }
  });

  it('leaves both as they were for a read and a rolled-back write', async () => {
    for (const write of [
      (tx: StoreTx) => tx.get('apiKey', 'k'),
      async (tx: StoreTx) => {
        await tx.insert('apiKey', { id: 'gone' }, {});
        throw new Error('rolled back');
      },
    ]) {
      const { before, after } = await around(write);
      expect(after).toEqual(before);
    }
  });

  it("moves the writer's own generations as its write commits, without catching up", async () => {
    const before = writer.generation();
    await writer.transaction((tx) => tx.insert('connection', { id: 'e', parentId: 'w', name: 'e' }, {}));
    expect(writer.generation()).toBeGreaterThan(before);
  });
});
