// Every command the endpoint knows, by name. Anything else is CommandNotFound (59).
import { saslContinue, saslStart } from './auth.js';
import { processorCommands } from './processors.js';
import { readCommands } from './reads.js';
import { samplingCommands } from './sampling.js';
import { serverCommands } from './server.js';
import type { CommandSpec } from './types.js';

export const COMMANDS: ReadonlyMap<string, CommandSpec> = new Map(Object.entries({
  ...serverCommands,
  saslStart: { run: saslStart, needs: 'none' },
  saslContinue: { run: saslContinue, needs: 'none' },
  ...processorCommands,
  ...readCommands,
  ...samplingCommands,
} satisfies Record<string, CommandSpec>));
