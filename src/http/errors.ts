// Atlas's error codes: one stable identifier each, with its status and detail template.
// Handlers throw ApiError(code, params); the HTTP layer renders it (see render-error.ts).

interface ErrorDefinition {
  status: number;
  /** `{0}`, `{1}`… are replaced by the parameters in order. */
  detail: string;
}

export const ERROR_CODES = {
  // Wire and validation
  INVALID_VERSION_DATE: { status: 406, detail: 'Invalid accept header or version date.' },
  RESOURCE_NOT_FOUND: { status: 404, detail: 'Cannot find resource {0}.' },
  METHOD_NOT_ALLOWED: { status: 405, detail: 'Method {0} is not allowed for resource {1}.' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, detail: 'Content type {0} is not supported.' },
  MALFORMED_JSON: { status: 400, detail: 'Received JSON is malformed.' },
  INVALID_JSON: { status: 400, detail: 'Received JSON does not match expected format.' },
  INVALID_ATTRIBUTE: { status: 400, detail: 'Invalid attribute {0} specified.' },
  MISSING_ATTRIBUTE: { status: 400, detail: 'The required attribute {0} was not specified.' },
  INVALID_ENUM_VALUE: { status: 400, detail: 'An invalid enumeration value {0} was specified.' },
  INVALID_JSON_ATTRIBUTE: { status: 400, detail: 'Received JSON for the {0} attribute does not match expected format.' },
  ATTRIBUTE_READ_ONLY: { status: 400, detail: 'The attribute {0} is read-only and cannot be changed.' },
  ATTRIBUTE_NEGATIVE_OR_ZERO: { status: 400, detail: 'The attribute {0} must be positive.' },
  MISSING_QUERY_PARAMETER: { status: 400, detail: 'The required query parameter {0} was not specified.' },
  INVALID_QUERY_PARAMETER: { status: 400, detail: 'Invalid query parameter {0} specified.' },
  INVALID_PATH_PARAMETER: { status: 400, detail: 'Invalid path parameter {0} specified.' },
  VALIDATION_ERROR: { status: 400, detail: 'The value {1} of attribute {0} is invalid.' },
  BODY_TOO_LARGE: { status: 413, detail: 'The request body exceeds the maximum size of {0} bytes.' },
  HEADERS_TOO_LARGE: { status: 431, detail: 'The request line or headers exceed the maximum size.' },
  UNPARSEABLE_REQUEST: { status: 400, detail: 'The HTTP request could not be parsed.' },
  REQUEST_TIMEOUT: { status: 408, detail: 'The request was not received in time.' },
  EXPECTATION_FAILED: { status: 417, detail: 'The expectation {0} cannot be met.' },
  // Identity and access
  USER_UNAUTHORIZED: { status: 401, detail: 'Current user is not authorized to perform this action.' },
  NOT_IN_GROUP: { status: 401, detail: 'Current user is not in the group, or the group does not exist.' },
  NOT_ORG_MEMBER: { status: 401, detail: 'Current user is not a member of the organization, or the organization does not exist.' },
  IP_ADDRESS_NOT_ON_ACCESS_LIST: { status: 403, detail: 'IP address {0} is not allowed to access this resource.' },
  RATE_LIMITED: { status: 429, detail: 'Resource {0} is limited to {1} requests every {2} minutes.' },
  INVALID_GROUP_ID: { status: 404, detail: 'An invalid group ID {0} was specified.' },
  GROUP_NOT_FOUND: { status: 404, detail: 'No group with ID {0} exists.' },
  GROUP_NAME_NOT_FOUND: { status: 404, detail: 'No group with name "{0}" exists.' },
  GROUP_ALREADY_EXISTS: { status: 409, detail: 'A group with name "{0}" already exists.' },
  CANNOT_CLOSE_GROUP_ACTIVE_ATLAS_STREAM_INSTANCES: { status: 409, detail: 'Cannot close group {0} while it has active stream instances.' },
  INVALID_ORG_ID: { status: 400, detail: 'An invalid organization ID {0} was specified.' },
  ORG_NOT_FOUND: { status: 404, detail: 'No organization with ID {0} exists.' },
  INVALID_API_KEY_ID: { status: 400, detail: 'An invalid API key ID {0} was specified.' },
  API_KEY_NOT_FOUND: { status: 404, detail: 'No API key with ID {0} exists.' },
  API_KEY_NOT_IN_GROUP: { status: 404, detail: 'API key {0} is not assigned to group {1}.' },
  API_KEY_ALREADY_IN_GROUP: { status: 409, detail: 'API key {0} is already assigned to group {1}.' },
  INVALID_ROLE_FOR_ORG_API_KEY: { status: 400, detail: 'The role {0} is not valid for organization API keys.' },
  INVALID_ROLE_FOR_GROUP: { status: 400, detail: 'The role {0} is not valid for projects.' },
  ACCESS_LIST_ENTRY_NOT_FOUND: { status: 404, detail: 'IP address {0} not on access list for API key {1}.' },
  ACCESS_LIST_ENTRY_INVALID: { status: 400, detail: 'The access list entry {0} is not a valid IP address or CIDR block.' },
  SERVICE_ACCOUNT_NOT_FOUND: { status: 404, detail: 'Service Account with client ID {0} not found.' },
  SERVICE_ACCOUNT_NOT_IN_GROUP: { status: 404, detail: 'Service Account with client ID {0} is not assigned to group {1}.' },
  SERVICE_ACCOUNT_SECRET_NOT_FOUND: { status: 404, detail: 'Service Account secret {0} not found.' },
  SERVICE_ACCOUNT_ACCESS_LIST_ENTRY_NOT_FOUND: { status: 404, detail: 'IP address {0} not on access list for service account {1}.' },
  SERVICE_ACCOUNT_MAX_SECRETS: { status: 400, detail: 'Service Account {0} already has the maximum of {1} secrets.' },
  DATABASE_USER_NOT_FOUND: { status: 404, detail: 'No user with username {0} exists in database {1}.' },
  DATABASE_USER_ALREADY_EXISTS: { status: 409, detail: 'The database user {0} already exists in this project.' },
  DATABASE_USER_LIMIT_EXCEEDED: { status: 400, detail: 'A project may have at most {0} database users.' },
  // Streams
  STREAM_TENANT_NOT_FOUND_FOR_NAME: { status: 404, detail: 'Stream instance for project {0} and name {1} not found.' },
  STREAM_TENANT_NAME_ALREADY_EXISTS: { status: 409, detail: 'A Stream instance with the name {0} already exists.' },
  STREAM_TENANT_HAS_STREAM_PROCESSORS: { status: 403, detail: 'Stream instance with name {0} has active processors, and cannot be changed.' },
  STREAM_CONNECTION_NOT_FOUND_FOR_NAME: { status: 404, detail: 'Stream connection with name {0} for project {1} and name {2} not found.' },
  STREAM_CONNECTION_NAME_ALREADY_EXISTS: { status: 409, detail: 'A Stream connection with the name {0} already exists.' },
  // Atlas's 2026 wording; it named only the workspace before (docs/atlas-behaviour.md).
  STREAM_CONNECTION_HAS_STREAM_PROCESSORS: { status: 403, detail: 'Stream connection with name {0} in stream workspace {1} has active processors, and cannot be changed.' },
  STREAM_WORKSPACE_STORAGE_EXCEEDED: { status: 400, detail: 'The {0} of stream workspace {1} may hold at most {2} bytes together.' },
  STREAM_PROCESSOR_GENERIC_ERROR: { status: 400, detail: 'Streams Processor with this name ({0}) had a problem occur: {1}.' },
  STREAM_PROCESSOR_NOT_FOUND: { status: 404, detail: 'Stream processor with name {0} for stream workspace {1} not found.' },
  STREAM_PROCESSOR_NAME_ALREADY_EXISTS: { status: 409, detail: 'A Stream processor with the name {0} already exists.' },
  STREAM_PROCESSOR_TIMEOUT: { status: 504, detail: 'Stream processor operation on {0} timed out.' },
  STREAM_FAILOVER_CONNECTION_NOT_FOUND: { status: 404, detail: 'Failover connection with ID {0} for stream connection {1} in stream workspace {2} not found.' },
  STREAM_FAILOVER_CONNECTION_ALREADY_EXISTS: { status: 409, detail: 'Stream connection {0} already has a failover connection in region {1}.' },
  STREAM_PRIVATE_LINK_INVALID_STATE: { status: 409, detail: 'Private link connection {0} is {1} and already has a DNS domain.' },
  STREAM_PRIVATE_LINK_NOT_FOUND: { status: 404, detail: 'Private link connection with ID {0} for project {1} not found.' },
  STREAM_VPC_PEERING_CONNECTION_NOT_FOUND: { status: 404, detail: 'VPC peering connection with ID {0} for project {1} not found.' },
  STREAM_PRIVATE_LINK_ALREADY_EXISTS: { status: 409, detail: 'A Private Link connection to this {0} endpoint already exists in the project.' },
  STREAM_VPC_PEERING_CHALLENGE_FAILED: { status: 400, detail: 'The requester account and VPC do not match VPC peering connection {0}.' },
  STREAM_VPC_PEERING_INVALID_STATE: { status: 409, detail: 'VPC peering connection {0} is {1} and cannot be {2}.' },
  // Last resort, and what fault injection answers for an unavailable service
  UNEXPECTED_ERROR: { status: 500, detail: 'Unexpected error.' },
  SERVICE_UNAVAILABLE: { status: 503, detail: 'The service is temporarily unavailable. Please try again later.' },
} as const satisfies Record<string, ErrorDefinition>;

export type ErrorCode = keyof typeof ERROR_CODES;

export interface BadRequestField {
  field: string;
  description: string;
}

export class ApiError extends Error {
  readonly status: number;
  readonly detail: string;
  /** For a refusal for want of a role: the roles of which one was needed (the request journal shows them). */
  requiredRoles?: readonly string[];

  constructor(
    readonly errorCode: ErrorCode,
    readonly parameters: unknown[] = [],
    readonly fields?: BadRequestField[],
    /** Extra headers (Retry-After). */
    readonly headers?: Record<string, string>,
  ) {
    const definition: ErrorDefinition = ERROR_CODES[errorCode];
    const detail = definition.detail.replace(/\{(\d+)\}/g, (_, i: string) => String(parameters[Number(i)] ?? ''));
    super(detail);
    this.status = definition.status;
    this.detail = detail;
  }
}
