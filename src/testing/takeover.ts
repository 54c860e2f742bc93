// What the runner takeover tests share: a PostgreSQL schema with a client on it, the
// environment every node of the cluster gets, a mock Kafka cluster, a numbered input topic
// half filled before the nodes start, and a reader counting what reaches the output topic.
import { Kafka, logLevel, type Consumer } from 'kafkajs';
import pg from 'pg';
import { countSequence, produceSequence } from '../engine/testing/kafka-sequence.js';
import { startMockKafka, type MockKafka } from '../engine/testing/kcat-mock.js';
import { clusterEnvironment, type ClusterEnvironment } from './cluster.js';
import { createTestSchema, type TestSchema } from './postgres.js';

export interface TakeoverWorld {
  schema: TestSchema;
  db: pg.Client;
  cluster: ClusterEnvironment;
  mock: MockKafka;
  /** Sequence number → how often it reached the output topic. */
  seen: Map<number, number>;
  produce(from: number, to: number): Promise<void>;
  /** The lease of the one processor the test runs: who holds it, under which epoch. */
  lease(): Promise<{ runner_id: string | null; epoch: string } | undefined>;
  close(): Promise<void>;
}

export async function startTakeoverWorld(serverUrl: string, topics: { input: string; output: string; reader: string }, firstEvents: number): Promise<TakeoverWorld> {
  const schema = await createTestSchema(serverUrl);
  const db = new pg.Client({ connectionString: schema.url });
  await db.connect();
  const mock = await startMockKafka();
  const kafka = new Kafka({ brokers: [mock.bootstrapServers], logLevel: logLevel.NOTHING });
  const seen = new Map<number, number>();
  const produce = (from: number, to: number) => produceSequence(kafka, topics.input, from, to);
  await produce(0, firstEvents);
  const consumer: Consumer = await countSequence(kafka, topics.output, topics.reader, seen);
  return {
    schema, db, cluster: clusterEnvironment(schema.url), mock, seen, produce,
    lease: async () => (await db.query('SELECT runner_id, epoch FROM processor_leases')).rows[0],
    async close() {
      await consumer.disconnect();
      await mock.stop();
      await db.end();
      await schema.drop();
    },
  };
}
