import { PipelineError } from '../contract.js';
import { isPlainObject, type Value } from '../expressions/values.js';

const UNIT_MS: Record<string, number> = {
  ms: 1, millisecond: 1, second: 1000, minute: 60_000, hour: 3_600_000, day: 86_400_000,
};

/** `{size, unit}` in milliseconds; units may be singular or plural. */
export function durationMs(spec: Value, field: string): number {
  if (!isPlainObject(spec) || typeof spec['size'] !== 'number' || spec['size'] < 0) {
    throw new PipelineError(`${field} must be {size: <number>, unit: <ms|second|minute|hour|day>}`);
  }
  const unit = UNIT_MS[String(spec['unit']).replace(/s$/, '')] ?? UNIT_MS[String(spec['unit'])];
  if (unit === undefined) throw new PipelineError(`${field}.unit must be one of ms, second, minute, hour, day`);
  return spec['size'] * unit;
}

export function optionalDurationMs(spec: Value, field: string, fallback: number): number {
  return spec === undefined ? fallback : durationMs(spec, field);
}
