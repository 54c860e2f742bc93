// The end-to-end Kafka tests' traffic: numbered events `{seq}` written to an input topic, and
// a reader that counts how often each number arrives on the output topic (at least once,
// none lost, is what they check).
import type { Consumer, Kafka } from 'kafkajs';

export async function produceSequence(kafka: Kafka, topic: string, from: number, to: number): Promise<void> {
  const producer = kafka.producer();
  await producer.connect();
  for (let start = from; start < to; start += 1000) {
    const messages = Array.from({ length: Math.min(1000, to - start) }, (_, i) => ({ key: String(start + i), value: JSON.stringify({ seq: start + i }) }));
    await producer.send({ topic, messages });
  }
  await producer.disconnect();
}

/** Counts into `seen` (seq -> deliveries) every event that reaches `topic`, until the consumer is disconnected. */
export async function countSequence(kafka: Kafka, topic: string, groupId: string, seen: Map<number, number>): Promise<Consumer> {
  const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 200 });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ message }) => {
      const { seq } = JSON.parse(message.value!.toString()) as { seq: number };
      seen.set(seq, (seen.get(seq) ?? 0) + 1);
    },
  });
  return consumer;
}
