// What one window (or session) holds until it closes: incremental $group state when the
// window's pipeline starts with a groupable $group, otherwise the documents themselves.
import type { Doc } from '../expressions/values.js';
import type { CompiledGroup } from '../stages/accumulators.js';
import { GroupState } from '../stages/group-state.js';
import { bsonSize } from '../runtime/bson-size.js';

export interface WindowContents {
  add(docs: Doc[]): void;
  /** Folds a later window's contents in (session merging). */
  merge(later: WindowContents): void;
  /** The documents the rest of the window pipeline receives at close. */
  results(): Doc[];
  sizeBytes(): number;
  snapshot(): unknown;
  /** The snapshot is plain data (primitives, Dates, arrays and plain objects of them) for certain, without walking it. */
  snapshotIsPlain(): boolean;
}

export class BufferedContents implements WindowContents {
  private bytes = 0;
  constructor(private docs: Doc[] = []) {
    for (const doc of docs) this.bytes += bsonSize(doc);
  }

  add(docs: Doc[]): void {
    for (const doc of docs) {
      this.docs.push(doc);
      this.bytes += bsonSize(doc);
    }
  }

  merge(later: WindowContents): void {
    const other = later as BufferedContents;
    this.docs = this.docs.concat(other.docs);
    this.bytes += other.bytes;
  }

  results(): Doc[] { return this.docs; }
  sizeBytes(): number { return this.bytes; }
  snapshot(): unknown { return { docs: this.docs }; }
  snapshotIsPlain(): boolean { return false; }
}

/** Where a document goes whose $group expression fails (the DLQ). */
export type Reject = (doc: Doc, reason: string) => void;

export class GroupedContents implements WindowContents {
  constructor(private readonly state: GroupState, private readonly reject: Reject) {}

  add(docs: Doc[]): void {
    for (const doc of docs) {
      try {
        this.state.add(doc);
      } catch (error) {
        this.reject(doc, (error as Error).message);
      }
    }
  }

  merge(later: WindowContents): void {
    this.state.merge((later as GroupedContents).state);
  }

  results(): Doc[] { return this.state.results(); }
  sizeBytes(): number { return this.state.sizeEstimate(); }
  snapshot(): unknown { return { groups: this.state.snapshot() }; }
  snapshotIsPlain(): boolean { return this.state.holdsScalarsOnly(); }
}

export function contentsFactory(group: CompiledGroup | undefined, reject: Reject): {
  create(): WindowContents;
  restore(snapshot: unknown): WindowContents;
} {
  return {
    create: () => (group ? new GroupedContents(new GroupState(group), reject) : new BufferedContents()),
    restore: (snapshot) => {
      const s = snapshot as { docs?: Doc[]; groups?: Parameters<typeof GroupState.restore>[1] };
      return group ? new GroupedContents(GroupState.restore(group, s.groups ?? []), reject) : new BufferedContents(s.docs ?? []);
    },
  };
}
