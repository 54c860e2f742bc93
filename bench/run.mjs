// `npm run bench`: every benchmark, each figure a ratio to a baseline measured in the same run.
//   --quick  one short round of everything at small scales (CI: proves the bench runs; asserts no speed)
//   --save   write this run to bench/previous.json, the figures the next release is compared with
import { availableParallelism, cpus } from 'node:os';
import { runApiBench, runMemoryBench } from './api.mjs';
import { runConsoleBench } from './console.mjs';
import { runEngineBench } from './engine.mjs';
import { runKafkaBench } from './kafka-bench.mjs';
import { report, savePrevious } from './lib/report.mjs';
import { runScaleBench } from './scale.mjs';
import { runScaleOutBench } from './scale-out.mjs';

const quick = process.argv.includes('--quick');
const machine = `${availableParallelism()} cores, ${cpus()[0]?.model.trim() ?? 'unknown CPU'}, Node ${process.version}`;
const started = Date.now();
const figures = [];
for (const [name, run] of [['control plane', runApiBench], ['memory', runMemoryBench], ['store scale', runScaleBench], ['engine', runEngineBench], ['kafka', runKafkaBench],
  ['scale-out', runScaleOutBench], ['console', runConsoleBench]]) {
  process.stdout.write(`running ${name}...\n`);
  figures.push(...(await run({ quick })));
}
report(figures, { machine });
// Saved before the phases below, which print their own figures: a failure there keeps the save.
if (process.argv.includes('--save') && !quick) savePrevious(figures, { machine });
if (!quick) {
  // Security and reliability (issue 8): hostile load, a bounded soak, checkpoints of large
  // window state; each prints its own ratios against a baseline measured in the same run.
  for (const [name, file, fn] of [['hostile load', './hostile-load.mjs', 'runHostileLoadBench'], ['soak', './soak.mjs', 'runSoakBench'],
    ['checkpoint stall', './checkpoint-stall.mjs', 'runCheckpointStallBench']]) {
    process.stdout.write(`running ${name}...\n`);
    await (await import(file))[fn]();
  }
}
console.log(`(${quick ? 'quick mode: figures are indicative only; ' : ''}${((Date.now() - started) / 1000).toFixed(0)} s)`);
process.exit(0);
