// Figures from interleaved rounds: the median ratio and its spread (half the range of the
// rounds' ratios), so one round disturbed by another process's burst does not decide a result.

/** A count or rate as the figures print it: whole, with thousands separators. */
export const fmt = (n) => Math.round(n).toLocaleString('en-US');

export function median(values) {
  const sorted = [...values].filter(Number.isFinite).sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

export function spread(values) {
  const finite = values.filter(Number.isFinite);
  return finite.length < 2 ? 0 : (Math.max(...finite) - Math.min(...finite)) / 2;
}

/**
 * One reported figure. `ratio` is what the target bounds: at least `target` when higher is
 * better, at most when `lowerIsBetter`.
 */
export function figure(id, label, rounds, { target, lowerIsBetter = false, baseline, detail = '' }) {
  const ratio = median(rounds);
  const met = target === undefined ? undefined : lowerIsBetter ? ratio <= target : ratio >= target;
  return { id, label, ratio, spread: spread(rounds), rounds, target, lowerIsBetter, baseline, detail, met };
}
