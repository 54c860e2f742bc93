// The caps that keep one processor from taking the server down: sizes MongoDB itself
// enforces (16 MB BSON values, $range's memory limit, pipeline length), and the emulator's
// own bounds on what a worker may use or how long it may spend. Every cap fails with a
// message in MongoDB's words where MongoDB has one. src/engine/README.md lists them.

/** MongoDB's largest document (BSONObjMaxUserSize): strings and documents stop here. */
export const MAX_BSON_BYTES = 16 * 1024 * 1024;
/** MongoDB's internalQueryMaxRangeBytes: what one $range may allocate. */
export const MAX_RANGE_BYTES = 64 * 1024 * 1024;
/** MongoDB counts a Value as 16 bytes when it sizes a $range. */
const RANGE_ELEMENT_BYTES = 16;
/** The most elements $range may produce; also the cap on any array an expression builds. */
export const MAX_ARRAY_ELEMENTS = Math.floor(MAX_RANGE_BYTES / RANGE_ELEMENT_BYTES);
/** MongoDB's internalPipelineLengthLimit; window pipelines count towards it. */
export const MAX_PIPELINE_STAGES = 1000;
/** How deep a pipeline definition may nest (objects and arrays); MongoDB stores at most 100 levels. */
export const MAX_DEFINITION_DEPTH = 100;
/** Error texts that cross to the main thread (FAILED reasons, DLQ reasons, logs) are cut here. */
export const MAX_MESSAGE_CHARS = 4096;

/** An expression or stage went past a cap: the document goes to the DLQ with this message. */
export class LimitExceeded extends Error {
  override readonly name = 'LimitExceeded';
}

export function rangeTooLarge(elements: number): LimitExceeded {
  return new LimitExceeded(`$range would use too much memory (${elements * RANGE_ELEMENT_BYTES} bytes) and cannot spill to disk. Memory limit: ${MAX_RANGE_BYTES} bytes`);
}

/** Throws when a string an operator would build is larger than a BSON document may be. */
export function checkStringLength(operator: string, chars: number): void {
  // A UTF-16 unit is at most 3 UTF-8 bytes; checking units keeps this O(1).
  if (chars > MAX_BSON_BYTES) {
    throw new LimitExceeded(`${operator}: string of ${chars} characters exceeds the maximum BSON size of ${MAX_BSON_BYTES} bytes`);
  }
}

/** Throws when an array an operator would build holds more elements than $range may produce. */
export function checkArrayLength(operator: string, elements: number): void {
  if (elements > MAX_ARRAY_ELEMENTS) {
    throw new LimitExceeded(`${operator} would build an array of ${elements} elements, more than the ${MAX_ARRAY_ELEMENTS} allowed (${MAX_RANGE_BYTES} bytes)`);
  }
}

/** MongoDB's message for a document over 16 MB. */
export function documentTooLarge(bytes: number): LimitExceeded {
  return new LimitExceeded(`BSONObj size: ${bytes} (0x${bytes.toString(16).toUpperCase()}) is invalid. Size must be between 0 and 16793600(16MB)`);
}

/** Cuts a message that is about to cross a thread or land in a record. */
export function boundedMessage(message: string): string {
  return message.length <= MAX_MESSAGE_CHARS ? message : `${message.slice(0, MAX_MESSAGE_CHARS)}… (${message.length - MAX_MESSAGE_CHARS} more characters)`;
}
