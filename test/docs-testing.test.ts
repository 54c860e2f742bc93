// docs/testing.md's node:test example, run as written against the package by its own name
// (the package's exports map lets a file inside it import 'atlas-streams-emulator').
import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, expect, it } from 'vitest';

const root = resolve(__dirname, '..');
const scratch = join(root, 'test', '.docs-examples');
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

it('the node:test example in docs/testing.md passes', async () => {
  const doc = readFileSync(join(root, 'docs/testing.md'), 'utf8');
  const example = /```js node:test\n([\s\S]*?)```/.exec(doc)?.[1];
  expect(example).toBeDefined();
  mkdirSync(scratch, { recursive: true });
  const file = join(scratch, 'example.test.mjs');
  writeFileSync(file, example!);
  const { stdout } = await promisify(execFile)(process.execPath, ['--test', file], { cwd: root });
  expect(stdout).toMatch(/^# pass 1$/m);
  expect(stdout).toMatch(/^# fail 0$/m);
});
