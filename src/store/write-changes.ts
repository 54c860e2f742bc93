// What an open transaction wrote, for the store's generations (Store.generation and
// identityGeneration): both backends mark it the same way as their writes run.

export interface Changes {
  /** Any entity. */
  entities: boolean;
  /** An entity of a kind a credential check may read. */
  identity: boolean;
}

export const noChanges = (): Changes => ({ entities: false, identity: false });

/** Marks a write of kind: every kind but the credential-free ones counts for identity too. */
export function markWrite(changes: Changes, credentialFreeKinds: ReadonlySet<string>, kind: string): void {
  changes.entities = true;
  if (!credentialFreeKinds.has(kind)) changes.identity = true;
}
