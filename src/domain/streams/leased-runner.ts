// Processors spread over runners that share one PostgreSQL database. Each runner (a node
// with role runner or all) holds the processors it runs by lease, renewed on a heartbeat;
// started processors nobody holds are claimed (FOR UPDATE SKIP LOCKED) up to a fair share,
// so a dead runner's processors are taken over once its leases expire, from their last
// checkpoint. API calls take effect at once: a start on a node that runs processors claims
// and starts it there (a refused pipeline still answers 400); elsewhere, NOTIFY wakes the
// runners. A runner that cannot renew its leases stops its processors before they expire,
// so that a processor never runs on two runners at once; until then each processor's write
// fence lets its sink writes start only while the lease is surely still this runner's.
//
// To the control plane this is a ProcessorRunner like the in-process engine: stats and
// isRunning come from the local engine for processors held here, and from the stats the
// holders publish in the lease table for the others.
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type pg from 'pg';
import type { Logger } from 'pino';
import { PipelineError, type Document, type ProcessorHost, type ProcessorRunner, type ProcessorStats } from '../../engine/contract.js';
import { allowWritesUntil, createWriteFence, fenceClockMs, type WriteFence } from '../../engine/index.js';
import type { SecretBox } from '../../crypto/secret-box.js';
import {
  leaseStore, listenProcessorChanges, liveLeases, notifyProcessorChange, type Lease, type LeaseView,
} from '../../store/postgres-leases.js';
import type { Store } from '../../store/store.js';
import { STREAMS_KIND, type StoredProcessor } from './common.js';
import { createFencedHost } from './fenced-host.js';
import { createOutputPublisher, followRemoteOutput } from './output-relay.js';
import { buildDefinition, instanceOf } from './processors.js';

export interface LeasedRunnerOptions {
  store: Store;
  pool: pg.Pool;
  secretBox: SecretBox;
  log: Logger;
  /** The local engine, on nodes that run processors (role all or runner); none on API-only nodes. */
  createEngine?: (host: ProcessorHost) => ProcessorRunner;
  /** How long a lease lasts without renewal: a dead runner's processors move after about this long. */
  leaseTtlMs?: number;
  heartbeatMs?: number;
}

export interface LeasedRunner extends ProcessorRunner {
  readonly runnerId: string;
}

/** A runner stops its processors this long before their leases would expire unrenewed. */
const SELF_FENCE_MARGIN_MS = 1500;
/** How long a start stays with the node that took the call before any runner may claim it unnotified. */
const START_GRACE_MS = 3000;

export async function createLeasedRunner(options: LeasedRunnerOptions): Promise<LeasedRunner> {
  const { store, pool, secretBox, log } = options;
  const ttlMs = options.leaseTtlMs ?? 5000;
  const heartbeatMs = options.heartbeatMs ?? 1000;
  const runnerId = `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
  const leases = leaseStore(pool, runnerId, ttlMs);
  const held = new Map<string, Lease>();
  const fences = new Map<string, WriteFence>();
  const engine = options.createEngine?.(createFencedHost(leases, store.blobs, (id) => held.get(id), log));
  const output = engine ? createOutputPublisher(pool, engine, log) : undefined;
  let remote = new Map<string, LeaseView>();
  /** When the last renewal that succeeded was sent: the database extended our leases after that. */
  let lastRenewed = fenceClockMs();
  const writableUntil = (sentAt: number) => sentAt + ttlMs - SELF_FENCE_MARGIN_MS;

  /** Holds a claimed lease; its processor's sink writes may start until the lease could lapse. */
  function hold(lease: Lease, claimSentAt: number): WriteFence {
    const fence = createWriteFence();
    allowWritesUntil(fence, writableUntil(claimSentAt));
    held.set(lease.processorId, lease);
    fences.set(lease.processorId, fence);
    return fence;
  }

  function unhold(processorId: string): void {
    const fence = fences.get(processorId);
    if (fence) allowWritesUntil(fence, 0);
    fences.delete(processorId);
    held.delete(processorId);
  }
  let closed = false;

  // One thing at a time: ticks and API-driven starts and stops never interleave on `held`.
  let chain: Promise<unknown> = Promise.resolve();
  const exclusively = <T>(task: () => Promise<T>): Promise<T> => {
    const next = chain.then(task, task);
    chain = next.catch(() => undefined);
    return next;
  };

  async function release(processorId: string, how: 'stop' | 'drop'): Promise<void> {
    const lease = held.get(processorId);
    if (!lease || !engine) return;
    // stop takes the final checkpoint, which needs the lease still held.
    await (how === 'stop' ? engine.stop(processorId) : engine.drop(processorId));
    unhold(processorId);
    remote.delete(processorId);
    await leases.release(lease).catch((error: unknown) => log.warn({ processorId, err: error }, 'releasing a lease failed; it will expire'));
  }

  async function startHeld(lease: Lease, claimSentAt: number, processor: StoredProcessor): Promise<void> {
    const definition = await store.read(async (tx) => {
      const instance = await instanceOf(tx, processor);
      return instance ? buildDefinition(tx, { secretBox, store }, instance, processor) : undefined;
    });
    if (!definition || !engine) return leases.release(lease);
    const writeFence = hold(lease, claimSentAt);
    try {
      await engine.start(definition, {
        resumeFromCheckpoint: true,
        writeFence,
        ...(processor.startAtOperationTime !== undefined ? { startAtOperationTime: processor.startAtOperationTime } : {}),
      });
      // It stopped here while starting (its lease lapsed meanwhile): its new owner runs it.
      if (held.get(lease.processorId) !== lease) return void await engine.drop(lease.processorId);
      log.info({ processorId: lease.processorId, name: processor.name, epoch: lease.epoch, runnerId }, 'runner claimed processor');
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      if (!(error instanceof PipelineError)) log.error({ processorId: lease.processorId, err: error }, 'starting a claimed processor failed');
      const host = createFencedHost(leases, store.blobs, () => lease, log);
      await host.markFailed(lease.processorId, message);
      unhold(lease.processorId);
      await leases.release(lease);
    }
  }

  async function runnerTick(): Promise<void> {
    const live = await leases.heartbeat();
    const renewed = new Map((await renew()).map((l) => [l.processorId, l]));
    for (const [id, lease] of held) {
      if (renewed.get(id)?.epoch !== lease.epoch) {
        log.warn({ processorId: id, epoch: lease.epoch, runnerId }, 'lease lost; stopping the processor here');
        unhold(id);
        engine!.drop(id).catch(() => undefined);
      }
    }
    // Leases still ours that we stopped running (we stopped in time while the database was
    // away, and nobody claimed them since): free them, so that they are claimed again.
    for (const [id, lease] of renewed) if (!held.has(id)) await leases.release(lease);
    const started = new Map((await store.read((tx) => tx.listAll<StoredProcessor>(STREAMS_KIND.processor))).items
      .filter((p) => p.state === 'STARTED').map((p) => [p._id, p]));
    for (const id of [...held.keys()]) if (!started.has(id)) await release(id, 'stop');
    const share = Math.ceil(started.size / Math.max(1, live));
    // More than a fair share (another runner joined): hand some over, from a checkpoint.
    for (const id of [...held.keys()].slice(share)) await release(id, 'stop');
    // A start is handed over by the node that took the call (it claims at once, or notifies).
    // Until the grace has passed, only a notified start is claimed here: a heartbeat racing
    // that hand-off would run the processor before the node could still refuse it.
    const nowMs = Date.now();
    const candidates = [...started.values()]
      .filter((p) => !held.has(p._id) && (notified.has(p._id) || nowMs - Date.parse(p.lastStateChange) > START_GRACE_MS))
      .map((p) => p._id);
    notified.clear();
    const claimSentAt = fenceClockMs();
    for (const lease of await leases.claim(candidates, share - held.size)) await startHeld(lease, claimSentAt, started.get(lease.processorId)!);
    for (const [id, lease] of held) {
      const stats = engine!.stats(id);
      if (stats) await leases.publishStats(lease, stats);
    }
    await output!.sync([...held.keys()]);
  }

  async function renew() {
    const sentAt = fenceClockMs();
    const renewed = await leases.renew();
    // Renewals overlap when the database is slow: only the latest one sent moves the fences.
    if (sentAt > lastRenewed) {
      lastRenewed = sentAt;
      for (const lease of renewed) {
        const fence = fences.get(lease.processorId);
        if (fence && held.get(lease.processorId)?.epoch === lease.epoch) allowWritesUntil(fence, writableUntil(sentAt));
      }
    }
    return renewed;
  }

  /**
   * Past this point another runner may take our processors over: stop them here first. Checked
   * on a timer, not only when a query fails: a database behind a dead network answers nothing,
   * not even an error, for many minutes.
   */
  function stopIfLeasesLapsing(): void {
    if (!engine || held.size === 0 || fenceClockMs() < writableUntil(lastRenewed)) return;
    log.error({ runnerId, processors: [...held.entries()].map(([id, l]) => ({ processorId: id, epoch: l.epoch })) },
      'cannot renew leases in time: stopping every processor here');
    for (const id of [...held.keys()]) {
      unhold(id);
      engine.drop(id).catch(() => undefined);
    }
  }

  async function tick(): Promise<void> {
    if (closed) return;
    try {
      if (engine) await runnerTick();
      remote = new Map((await liveLeases(pool)).map((l) => [l.processorId, l]));
    } catch (error) {
      log.warn({ err: error, runnerId }, 'runner heartbeat failed');
      stopIfLeasesLapsing();
    }
  }

  const notified = new Set<string>();
  let pending = false;
  const wake = (processorId?: string) => {
    if (processorId) notified.add(processorId);
    if (pending) return;
    pending = true;
    void exclusively(async () => { pending = false; await tick(); });
  };
  const timer = setInterval(() => wake(), heartbeatMs);
  timer.unref();
  // Renewal also runs on its own, outside the one-at-a-time chain: a slow start (a worker
  // compiling) must not let the other leases lapse.
  const renewer = setInterval(() => {
    if (!engine || held.size === 0 || closed) return;
    stopIfLeasesLapsing();
    renew().catch((error: unknown) => log.warn({ err: error, runnerId }, 'renewing leases failed'));
  }, heartbeatMs);
  renewer.unref();
  const unlisten = engine ? await listenProcessorChanges(pool, wake) : async () => undefined;
  await exclusively(tick);

  const notify = (processorId: string) => notifyProcessorChange(pool, processorId)
    .catch((error: unknown) => log.warn({ processorId, err: error }, 'notifying runners failed; they will notice on their heartbeat'));

  return {
    runnerId,
    start: (definition, startOptions) => exclusively(async () => {
      if (!engine) return notify(definition.id);
      // The heartbeat may have seen the committed start first and claimed it already.
      if (held.has(definition.id)) return;
      const claimSentAt = fenceClockMs();
      const [lease] = await leases.claim([definition.id], 1);
      if (!lease) return notify(definition.id);
      const writeFence = hold(lease, claimSentAt);
      try {
        await engine.start(definition, { ...startOptions, writeFence });
      } catch (error) {
        unhold(definition.id);
        await leases.release(lease);
        throw error;
      }
    }),
    stop: (processorId) => exclusively(async () => (held.has(processorId) ? release(processorId, 'stop') : notify(processorId))),
    drop: (processorId) => exclusively(async () => (held.has(processorId) ? release(processorId, 'drop') : notify(processorId))),
    isRunning: (processorId) => (held.has(processorId) ? engine!.isRunning(processorId) : remote.get(processorId)?.stats !== undefined),
    stats: (processorId): ProcessorStats | undefined =>
      (held.has(processorId) ? engine!.stats(processorId) : remote.get(processorId)?.stats as ProcessorStats | undefined),
    watchOutput(processorId, signal): AsyncIterable<Document> {
      // Followed in the engine where the processor runs; elsewhere through the database.
      if (engine && held.has(processorId)) return engine.watchOutput(processorId, signal);
      return followRemoteOutput(pool, processorId, signal);
    },
    // Kept by the engine that ran it: readable on this node only.
    lastOutputOf: (processorId) => engine?.lastOutputOf?.(processorId) ?? [],
    watchDeadLetters(processorId, signal): AsyncIterable<Document> {
      // Only the node running the processor has its dead letters; they are not copied through
      // the database (docs/differences-from-atlas.md), so elsewhere nothing comes.
      return engine && held.has(processorId) ? engine.watchDeadLetters(processorId, signal) : noDocuments();
    },
    async close() {
      closed = true;
      clearInterval(timer);
      clearInterval(renewer);
      output?.stopAll();
      await unlisten();
      // A clean shutdown hands every processor over from a final checkpoint.
      await exclusively(async () => { for (const id of [...held.keys()]) await release(id, 'stop'); });
      await engine?.close();
    },
  };
}

async function* noDocuments(): AsyncIterable<Document> {}
