// A window's contents say whether their snapshot is plain data (runtime/window-shards.ts sends
// a share as it is, unwalked, when every window in it says so): a value a structured clone
// would change (an ObjectId, a Long) must never be reported plain, and a share packed on that
// word must arrive with its types.
import { MessageChannel } from 'node:worker_threads';
import { Long, ObjectId } from 'bson';
import { describe, expect, it } from 'vitest';
import { compileGroup } from '../stages/accumulators.js';
import { pack, unpack } from '../runtime/window-shards.js';
import { contentsFactory } from './window-contents.js';

const group = compileGroup({ _id: '$device', high: { $max: '$reading' }, all: { $push: '$reading' }, n: { $sum: 1 } })!;
const contents = () => contentsFactory(group, () => undefined);

/** What the other end of a worker channel receives for a packed value. */
async function sendAcross(value: unknown, knownPlain: boolean): Promise<unknown> {
  const { port1, port2 } = new MessageChannel();
  const received = new Promise((resolve) => port2.once('message', resolve));
  const { packed, transfer } = pack(value, knownPlain);
  port1.postMessage(packed, transfer);
  const message = await received;
  port1.close();
  return unpack(message as never);
}

describe('window contents: plain snapshots', () => {
  it('numbers, strings and dates are plain; an ObjectId or a Long key or value is not, nor anything merged with it', () => {
    const scalars = contents().create();
    scalars.add([{ device: 'd1', reading: 3 }, { device: 'd2', reading: new Date(0) }, { device: null, reading: 'x' }]);
    expect(scalars.snapshotIsPlain()).toBe(true);

    const objectIdValue = contents().create();
    objectIdValue.add([{ device: 'd1', reading: 1 }, { device: 'd1', reading: new ObjectId() }]);
    expect(objectIdValue.snapshotIsPlain()).toBe(false);

    const longKey = contents().create();
    longKey.add([{ device: Long.fromNumber(7), reading: 1 }]);
    expect(longKey.snapshotIsPlain()).toBe(false);

    scalars.merge(objectIdValue);
    expect(scalars.snapshotIsPlain()).toBe(false);
  });

  it('contents restored from a checkpoint are not known to be plain, and buffered documents never are', () => {
    const restored = contents().restore(contents().create().snapshot());
    expect(restored.snapshotIsPlain()).toBe(false);
    const buffered = contentsFactory(undefined, () => undefined).create();
    buffered.add([{ a: 1 }]);
    expect(buffered.snapshotIsPlain()).toBe(false);
  });

  it('a share packed on the contents\' word keeps its types across a worker channel', async () => {
    const id = new ObjectId();
    const withObjectId = contents().create();
    withObjectId.add([{ device: 'd1', reading: id }]);
    const arrivedObjectId = await sendAcross(withObjectId.snapshot(), withObjectId.snapshotIsPlain());
    const [entry] = (arrivedObjectId as { groups: Array<{ states: unknown[] }> }).groups;
    expect(entry!.states[0]).toBeInstanceOf(ObjectId);
    expect((entry!.states[0] as ObjectId).equals(id)).toBe(true);

    const withDates = contents().create();
    withDates.add([{ device: 'd1', reading: new Date(5) }]);
    const arrivedDates = await sendAcross(withDates.snapshot(), withDates.snapshotIsPlain());
    expect((arrivedDates as { groups: Array<{ states: unknown[] }> }).groups[0]!.states[0]).toEqual(new Date(5));
  });
});
