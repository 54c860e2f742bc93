// Request fields that later revisions of the Atlas Admin API added and that MongoDB's own
// current clients send (mongodb-mcp-server 3.x). The spec in ../shared/spec stays unchanged;
// the generator folds these in so that such clients need no special casing on our side.
// Each one is listed in docs/differences-from-atlas.md.
export function applySpecExtensions(spec) {
  const schemas = spec.components.schemas;

  // PATCH .../streams/{tenantName} with {"streamConfig": {"tier": ...}}: changing an
  // instance's tier. The region fields stay, optional, and still go together.
  const updateInstance = spec.paths['/api/atlas/v2/groups/{groupId}/streams/{tenantName}'].patch;
  for (const media of Object.values(updateInstance.requestBody.content)) {
    media.schema = {
      type: 'object',
      properties: {
        ...schemas.StreamsDataProcessRegion.properties,
        streamConfig: { $ref: '#/components/schemas/StreamConfig' },
      },
    };
  }

  // POST ...:startWith {"resumeFromCheckpoint": false}: start afresh instead of resuming.
  schemas.StreamsStartStreamProcessorWith.properties.resumeFromCheckpoint = { type: 'boolean' };
}
