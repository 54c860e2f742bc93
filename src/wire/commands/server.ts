// The commands every driver and mongosh send around the stream commands: the handshake
// (hello and its legacy spellings), and the start-up questions mongosh asks. Harmless ones
// get plain answers (empty lists), so that nothing a shell does at start breaks it.
import { Long, type Document } from 'bson';
import { MAX_BSON_OBJECT_BYTES, MAX_MESSAGE_BYTES } from '../codec.js';
import { SCRAM_MECHANISMS } from '../../crypto/scram.js';
import { startSasl } from './auth.js';
import type { CommandContext, CommandSpec } from './types.js';

/** Wire versions 0..21 satisfy every driver 6.0-7.5 (so every mongosh 2.x). */
const MAX_WIRE_VERSION = 21;
/** The server version buildInfo reports: 7.0-style, which mongosh knows how to talk to. */
const VERSION = '7.0.0';

async function hello(ctx: CommandContext): Promise<Document> {
  const { body, endpoint, session } = ctx;
  const reply: Document = {
    helloOk: true,
    isWritablePrimary: true,
    ismaster: true,
    maxBsonObjectSize: MAX_BSON_OBJECT_BYTES,
    maxMessageSizeBytes: MAX_MESSAGE_BYTES,
    maxWriteBatchSize: 100_000,
    localTime: new Date(),
    logicalSessionTimeoutMinutes: 30,
    connectionId: session.connectionId,
    minWireVersion: 0,
    maxWireVersion: MAX_WIRE_VERSION,
    readOnly: false,
  };
  // Which mechanisms the named user has: both, for every name (no hint whether it exists).
  if (typeof body['saslSupportedMechs'] === 'string') reply['saslSupportedMechs'] = [...SCRAM_MECHANISMS];
  const speculative = body['speculativeAuthenticate'] as Document | undefined;
  if (speculative && typeof speculative === 'object' && speculative['saslStart'] !== undefined) {
    try {
      const first = await startSasl(endpoint, session, speculative, typeof speculative['db'] === 'string' ? speculative['db'] : 'admin');
      const { ok: _ok, ...step } = first;
      reply['speculativeAuthenticate'] = step;
    } catch {
      // A speculative step that cannot go on is left out: the client then authenticates normally.
    }
  }
  reply['ok'] = 1;
  return reply;
}

function buildInfo(): Document {
  return {
    version: VERSION,
    gitVersion: '0000000000000000000000000000000000000000',
    modules: ['enterprise'],
    allocator: 'system',
    javascriptEngine: 'none',
    sysInfo: 'deprecated',
    versionArray: [7, 0, 0, 0],
    openssl: { running: 'OpenSSL', compiled: 'OpenSSL' },
    buildEnvironment: { target_os: 'linux', target_arch: 'x86_64' },
    bits: 64,
    debug: false,
    maxBsonObjectSize: MAX_BSON_OBJECT_BYTES,
    storageEngines: [],
    ok: 1,
  };
}

const plain = (reply: Document) => async (): Promise<Document> => ({ ...reply, ok: 1 });

function emptyCursor(ctx: CommandContext, collection: string): Document {
  return { cursor: { id: Long.fromNumber(0), ns: `${ctx.db}.${collection}`, firstBatch: [] }, ok: 1 };
}

export const serverCommands: Record<string, CommandSpec> = {
  hello: { run: hello, needs: 'none' },
  isMaster: { run: hello, needs: 'none' },
  ismaster: { run: hello, needs: 'none' },
  ping: { run: plain({}), needs: 'session' },
  buildInfo: { run: async () => buildInfo(), needs: 'session' },
  buildinfo: { run: async () => buildInfo(), needs: 'session' },
  atlasVersion: { run: plain({ atlasVersion: 'atlas-streams-emulator', gitVersion: '' }), needs: 'session' },
  getParameter: { run: plain({}), needs: 'session' },
  getLog: { run: plain({ totalLinesWritten: 0, log: [] }), needs: 'session' },
  getCmdLineOpts: { run: plain({ argv: [], parsed: {} }), needs: 'session' },
  hostInfo: { run: plain({ system: {}, os: { type: 'Linux' }, extra: {} }), needs: 'session' },
  listDatabases: { run: plain({ databases: [], totalSize: 0 }), needs: 'session' },
  listCollections: { run: async (ctx) => emptyCursor(ctx, '$cmd.listCollections'), needs: 'session' },
  endSessions: { run: plain({}), needs: 'session' },
  killSessions: { run: plain({}), needs: 'session' },
  logout: { run: async (ctx) => { ctx.session.user = undefined; return { ok: 1 }; }, needs: 'none' },
  count: { run: plain({ n: 0 }), needs: 'session' },
  whatsmyuri: { run: async (ctx) => ({ you: ctx.session.remoteAddress, ok: 1 }), needs: 'session' },
  connectionStatus: {
    run: async (ctx) => ({
      authInfo: {
        authenticatedUsers: ctx.session.user ? [{ user: ctx.session.user.username, db: 'admin' }] : [],
        authenticatedUserRoles: ctx.session.user ? ctx.session.user.roles.map((r) => ({ role: r.roleName, db: r.databaseName })) : [],
      },
      ok: 1,
    }),
    needs: 'none',
  },
};
