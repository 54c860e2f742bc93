// `npm run bench`: every benchmark, each figure a ratio to a baseline measured in the same run.
//   --quick  one short round of everything at small scales (CI: proves the bench runs; asserts no speed)
//   --save   write this run to bench/previous.json, the figures the next release is compared with
//   --only <part>  just one part (`npm run bench:wire` is `--only wire`); never saved
import { availableParallelism, cpus } from 'node:os';
import { runApiBench, runMemoryBench } from './api.mjs';
import { runConsoleBench } from './console.mjs';
import { runEngineBench } from './engine.mjs';
import { runKafkaBench } from './kafka-bench.mjs';
import { report, savePrevious } from './lib/report.mjs';
import { runScaleBench } from './scale.mjs';
import { runScaleOutBench } from './scale-out.mjs';
import { runWireBench } from './wire.mjs';

const quick = process.argv.includes('--quick');
const only = process.argv.includes('--only') ? process.argv[process.argv.indexOf('--only') + 1] : undefined;
const machine = `${availableParallelism()} cores, ${cpus()[0]?.model.trim() ?? 'unknown CPU'}, Node ${process.version}`;
const started = Date.now();
const figures = [];
const parts = [['control plane', runApiBench], ['memory', runMemoryBench], ['store scale', runScaleBench], ['engine', runEngineBench], ['kafka', runKafkaBench],
  ['wire', runWireBench], ['scale-out', runScaleOutBench], ['console', runConsoleBench]];
if (only !== undefined && !parts.some(([name]) => name === only)) {
  console.error(`--only takes one of: ${parts.map(([name]) => name).join(', ')}`);
  process.exit(2);
}
for (const [name, run] of parts.filter(([name]) => only === undefined || name === only)) {
  process.stdout.write(`running ${name}...\n`);
  const partStarted = Date.now();
  figures.push(...(await run({ quick })));
  process.stdout.write(`  (${name}: ${((Date.now() - partStarted) / 1000).toFixed(0)} s)\n`);
}
report(figures, { machine });
// Saved before the phases below, which print their own figures: a failure there keeps the save.
if (process.argv.includes('--save') && !quick && only === undefined) savePrevious(figures, { machine });
if (!quick && only === undefined) {
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
