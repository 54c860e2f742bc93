// Prints the figures, says which fall short of their targets and which ratios moved the wrong
// way since the previous release's run (bench/previous.json) by more than their spread.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';

const PREVIOUS = new URL('../previous.json', import.meta.url);

export function report(figures, { machine }) {
  const previous = existsSync(PREVIOUS) ? JSON.parse(readFileSync(PREVIOUS, 'utf8')) : undefined;
  const before = new Map((previous?.figures ?? []).map((f) => [f.id, f]));
  const short = [];
  const regressed = [];
  if (previous?.note) console.log(`\nPrevious release (${previous.date}): ${previous.note}`);
  console.log(`\nBenchmark figures (${machine}); ratio = median of interleaved rounds ± spread (half their range)`);
  for (const f of figures) {
    if (f.ratio === undefined) {
      console.log(`  ${f.label}\n      ${f.detail}`);
      if (f.met === false) short.push(f);
      continue;
    }
    const goal = f.target === undefined ? '' : `target ${f.lowerIsBetter ? '<=' : '>='} ${f.target}: ${f.met ? 'met' : 'SHORT'}`;
    console.log(`  ${f.label}\n      ratio ${f.ratio.toFixed(2)} ± ${f.spread.toFixed(2)}  ${goal}\n      baseline: ${f.baseline}; ${f.detail}`);
    if (f.met === false) short.push(f);
    const old = before.get(f.id);
    if (old?.method) {
      console.log(`      previous ${old.ratio.toFixed(2)} (${previous.date}) measured another way (${old.method}): not compared`);
    } else if (old?.ratio !== undefined) {
      const worse = f.lowerIsBetter ? f.ratio - old.ratio : old.ratio - f.ratio;
      const allowed = Math.max(f.spread, old.spread ?? 0);
      const note = `previous ${old.ratio.toFixed(2)} ± ${(old.spread ?? 0).toFixed(2)} (${previous.date})`;
      if (worse > allowed) {
        regressed.push(f);
        console.log(`      REGRESSED: ${note}`);
      } else {
        console.log(`      ${note}`);
      }
    }
  }
  console.log(short.length ? `\nShort of target: ${short.map((f) => f.id).join(', ')}` : '\nEvery target met.');
  if (regressed.length) console.log(`Regressed beyond spread since the previous release: ${regressed.map((f) => f.id).join(', ')}`);
  return { short, regressed };
}

/** `--save`: this run becomes the one the next release compares against. */
export function savePrevious(figures, { machine }) {
  const kept = figures.map(({ id, label, ratio, spread, target, lowerIsBetter, baseline, detail }) => ({ id, label, ratio, spread, target, lowerIsBetter, baseline, detail }));
  writeFileSync(PREVIOUS, `${JSON.stringify({ date: new Date().toISOString().slice(0, 10), machine, figures: kept }, null, 2)}\n`);
}
