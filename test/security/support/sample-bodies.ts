// A valid request body per operation, taken from the contract areas (each contract carries
// the sampleBody its body matrix is derived from), so the security tests send the requests
// clients really send without a second copy of every body.
import { apiKeysArea, projectsArea, serviceAccountsArea } from '../../contract/areas/identity.js';
import { area as instances } from '../../contract/areas/streams-instances.js';
import { area as networking } from '../../contract/areas/streams-networking.js';
import { area as processors } from '../../contract/areas/streams-processors.js';

const bodies = new Map<string, unknown>();
for (const area of [projectsArea, apiKeysArea, serviceAccountsArea, instances, networking, processors]) {
  for (const contract of area.contracts) if (contract.sampleBody !== undefined) bodies.set(contract.operationId, contract.sampleBody);
}

/** The sample body of an operation, or `{}` for an operation no contract describes yet. */
export function sampleBody(operationId: string): unknown {
  return structuredClone(bodies.get(operationId) ?? {});
}
