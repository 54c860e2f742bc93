// The shape of the generated protocol tables (see scripts/generate-protocol.mjs).

/** A JSON Schema as the spec writes it, with `$ref` shortened to a component name. */
export interface Schema {
  $ref?: string;
  type?: 'string' | 'integer' | 'number' | 'boolean' | 'array' | 'object';
  properties?: Record<string, Schema>;
  additionalProperties?: boolean | Schema;
  required?: string[];
  items?: Schema;
  enum?: unknown[];
  format?: string;
  pattern?: string;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  minItems?: number;
  maxItems?: number;
  readOnly?: boolean;
  writeOnly?: boolean;
  nullable?: boolean;
  default?: unknown;
  oneOf?: Schema[];
  anyOf?: Schema[];
  allOf?: Schema[];
  discriminator?: { propertyName: string; mapping?: Record<string, string> };
  [extension: string]: unknown;
}

export interface ParameterSpec {
  name: string;
  in: 'path' | 'query' | 'header';
  required: boolean;
  schema: Schema;
}

export interface OperationSpec {
  operationId: string;
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  path: string;
  tag: string;
  summary: string;
  /** Resource versions (YYYY-MM-DD) the operation serves, oldest first. */
  versions: string[];
  /** `json`, or `gzip` for a download. */
  format: string;
  successStatus: number;
  parameters: ParameterSpec[];
  requestBody?: { required: boolean; schemas: Record<string, Schema> };
  /** status -> version -> schema (null where the response has no body). */
  responses: Record<string, Record<string, Schema | null>>;
  /**
   * Display names of the roles of which the caller needs one, from `x-rolesRequirements`
   * (or the generator's table where the spec states none); `src/model/roles.ts` maps them.
   */
  authorization: { requirements: string[]; source: 'x-rolesRequirements' | 'generator' };
  documentedErrors: number[];
}
