// Window time options as sp-agg-tumbling/-hopping/-session document them: `{size, unit}`
// with an integer size, `offset: {offsetFromUtc, unit}`, and the bare integer 0 that
// allowedLateness and idleTimeout also accept.
import { PipelineError } from '../contract.js';
import { isPlainObject, type Value } from '../expressions/values.js';

const UNIT_MS: Record<string, number> = {
  ms: 1, millisecond: 1, second: 1000, minute: 60_000, hour: 3_600_000, day: 86_400_000,
};
const UNITS = 'ms, second, minute, hour, day';

function unitMs(unit: Value, field: string): number {
  const ms = UNIT_MS[String(unit)] ?? UNIT_MS[String(unit).replace(/s$/, '')];
  if (ms === undefined) throw new PipelineError(`${field}.unit must be one of ${UNITS}`);
  return ms;
}

/** A required `{size, unit}` whose size is a positive integer (interval, hopSize, gap). */
export function durationMs(spec: Value, field: string): number {
  if (!isPlainObject(spec)) throw new PipelineError(`${field} must be {size: <int>, unit: <${UNITS}>}`);
  const size = spec['size'];
  if (typeof size !== 'number' || !Number.isInteger(size) || size <= 0) throw new PipelineError(`${field}.size must be a positive integer`);
  return size * unitMs(spec['unit'], field);
}

/** allowedLateness / idleTimeout: `{size, unit}` with a non-negative integer size, or the integer 0. */
export function optionalDurationMs(spec: Value, field: string, fallback: number): number {
  if (spec === undefined) return fallback;
  if (spec === 0) return 0;
  if (!isPlainObject(spec)) throw new PipelineError(`${field} must be {size: <int>, unit: <${UNITS}>} or 0`);
  const size = spec['size'];
  if (typeof size !== 'number' || !Number.isInteger(size) || size < 0) throw new PipelineError(`${field}.size must be a non-negative integer`);
  return size * unitMs(spec['unit'], field);
}

/** `offset: {offsetFromUtc: <int>, unit}`: where window boundaries fall relative to UTC. */
export function offsetMs(spec: Value, field: string): number {
  if (spec === undefined) return 0;
  if (!isPlainObject(spec) || !('offsetFromUtc' in spec)) throw new PipelineError(`${field} must be {offsetFromUtc: <int>, unit: <${UNITS}>}`);
  const size = spec['offsetFromUtc'];
  if (typeof size !== 'number' || !Number.isInteger(size)) throw new PipelineError(`${field}.offsetFromUtc must be an integer`);
  return size * unitMs(spec['unit'], field);
}
