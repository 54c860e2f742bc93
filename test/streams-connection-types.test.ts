// The console's list of connection types is the spec's: a type Atlas adds shows up here first.
import { describe, expect, it } from 'vitest';
import { CONNECTION_TYPES } from '../src/model/connection-types.js';
import { schemas } from '../src/protocol/generated/schemas.js';

describe('CONNECTION_TYPES', () => {
  it('lists exactly the types of the spec\'s StreamsConnection discriminator', () => {
    const mapped = Object.keys(schemas['StreamsConnection']?.discriminator?.mapping ?? {});
    expect([...CONNECTION_TYPES].sort()).toEqual(mapped.sort());
  });
});
