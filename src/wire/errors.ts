// Every error the wire endpoint answers, in one table (WIRE.md §4): a reply
// {ok: 0, errmsg, code, codeName}. Domain errors (ApiError, the Admin API's) keep their
// message, so both doors say the same thing for the same cause; only the code changes.
import type { Document } from 'bson';
import { ApiError, type ErrorCode } from '../http/errors.js';

/** MongoDB's server error codes the endpoint uses. */
export const CODES = {
  InternalError: 1,
  BadValue: 2,
  FailedToParse: 9,
  Unauthorized: 13,
  TypeMismatch: 14,
  ProtocolError: 17,
  AuthenticationFailed: 18,
  InvalidBSON: 22,
  CommandNotFound: 59,
  InvalidOptions: 72,
  CommandFailed: 125,
  MechanismUnavailable: 334,
} as const;

export type CodeName = keyof typeof CODES;

export class WireError extends Error {
  override readonly name = 'WireError';
  constructor(readonly codeName: CodeName, message: string) {
    super(message);
  }
}

/** How the Admin API's error codes read on the wire; anything not listed is CommandFailed. */
const FROM_API: Partial<Record<ErrorCode, CodeName>> = {
  VALIDATION_ERROR: 'FailedToParse',
  MISSING_ATTRIBUTE: 'FailedToParse',
  INVALID_ATTRIBUTE: 'FailedToParse',
  INVALID_ENUM_VALUE: 'FailedToParse',
  INVALID_JSON_ATTRIBUTE: 'FailedToParse',
  USER_UNAUTHORIZED: 'Unauthorized',
  NOT_IN_GROUP: 'Unauthorized',
};

/** Messages the wire door writes itself. */
export const MESSAGES = {
  notAuthenticated: (command: string) => `command ${command} requires authentication`,
  missingPrivilege: (action: string, resource: string) => `not authorized: missing privilege for action ${action} on ${resource}`,
  authenticationFailed: () => 'Authentication failed.',
  unknownCommand: (command: string) => `no such command: '${command}'`,
  mustBeString: (field: string) => `${field} must be a string`,
  mustBeArray: (field: string) => `${field} must be an array`,
  mustBeObject: (field: string) => `${field} must be an object`,
  noSuchCursor: (cursorId: string) => `no sample cursor with id ${cursorId} for this stream processor`,
  workspaceGone: () => 'this stream workspace no longer exists',
  tooLarge: (bytes: number) => `message of ${bytes} bytes is larger than the maximum of 48000000 bytes`,
  badLength: (bytes: number) => `message length ${bytes} is invalid; the connection is closed because the stream cannot be re-synchronized`,
  internal: () => 'an unexpected error occurred; the server log has the details',
} as const;

export function errorReply(codeName: CodeName, errmsg: string): Document {
  // ok as a double: mongosh compares ok with === against 1/0 and decodes without promoteLongs.
  return { ok: 0, errmsg, code: CODES[codeName], codeName };
}

/** The reply for anything a command threw; unknown errors become InternalError (logged by the caller). */
export function replyForError(error: unknown): { reply: Document; unexpected: boolean } {
  if (error instanceof WireError) return { reply: errorReply(error.codeName, error.message), unexpected: false };
  if (error instanceof ApiError) {
    const detail = error.fields?.length ? `${error.detail} ${error.fields.map((f) => f.description).join(' ')}` : error.detail;
    return { reply: errorReply(FROM_API[error.errorCode] ?? 'CommandFailed', detail), unexpected: false };
  }
  return { reply: errorReply('InternalError', MESSAGES.internal()), unexpected: true };
}
