// Where Atlas Stream Processing runs: each cloud provider's regions, read off the spec's
// region enums (ApiStreams<Provider>RegionView), so that a new cut brings its new regions.
import { schemas } from '../../protocol/generated/schemas.js';

function enumOf(schemaName: string): readonly string[] {
  return (schemas[schemaName]?.enum ?? []) as string[];
}

export const REGIONS_BY_PROVIDER: Record<string, readonly string[]> = {
  AWS: enumOf('ApiStreamsAWSRegionView'),
  AZURE: enumOf('ApiStreamsAzureRegionView'),
  GCP: enumOf('ApiStreamsGCPRegionView'),
};
