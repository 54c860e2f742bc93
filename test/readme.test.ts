// The README's "Running a processor" block, pasted into a shell after the banner's export
// line, works as written (the follow-the-output command is left out: it runs until stopped).
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, expect, it } from 'vitest';
import { ACCEPT, callDigest } from '../src/testing/harness.js';
import { startServerProcess, stopServerProcess, type ServerProcess } from '../src/testing/server-process.js';

let server: ServerProcess | undefined;
afterAll(async () => { if (server) await stopServerProcess(server.child); });

it("README: 'Running a processor' works pasted after the banner", async () => {
  server = await startServerProcess(['--port', '0', '--in-memory', '--log-level', 'warn']);
  const exportLine = /^\s*(export URL=.*)$/m.exec(server.text)?.[1];
  expect(exportLine, server.text).toBeDefined();
  const readme = readFileSync(resolve(__dirname, '../README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Running a processor'));
  const block = /```sh\n([\s\S]*?)```/.exec(section)![1]!;
  const steps = block.slice(0, block.indexOf('# follow its output'));
  const { stdout } = await promisify(execFile)('bash', ['-euo', 'pipefail', '-c', `${exportLine}\n${steps}`]);
  expect(stdout).toContain('"name":"hot"');
  const processor = await callDigest(`${server.url}/api/atlas/v2/groups/${server.projectId}/streams/solar/processor/hot`, server,
    { accept: ACCEPT.processors });
  expect(processor.json.state).toBe('STARTED');
});
