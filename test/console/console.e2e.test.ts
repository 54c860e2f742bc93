// The web console end to end in headless Chromium (Debian's chromium, driven by playwright-core):
// log in, create a workspace, a Sample connection, a SchemaRegistry one in the JSON editor (then edited as JSON, losing nothing) and a processor, start it, watch the chart and the
// output move, stop it, see dead letter queue records come, try a pipeline, read the journal, see a read-only key refused,
// and log in as a service account and as a database user.
// A screenshot of each page goes to test-artifacts/console/. CI installs chromium (.ci/run):
// without it this test fails rather than skips.
import { existsSync, mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { digestClient, startTestServer, type ApiKeyCredentials, type TestServer } from '../../src/testing/harness.js';
import { createProjectKey, createServiceAccount, type CreatedAccount } from '../identity-helpers.js';

const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = resolve(__dirname, '../../test-artifacts/console');
export const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync'];

let server: TestServer;
let browser: Browser;
let page: Page;
let readOnly: ApiKeyCredentials;
let account: CreatedAccount;

/** A machine shared with other builds can take seconds to start a worker: every wait is generous. */
function eventually<T>(read: () => Promise<T> | T) {
  return expect.poll(read, { timeout: 30_000, interval: 100 });
}

async function shot(name: string): Promise<void> {
  await page.screenshot({ path: `${ARTIFACTS}/${name}.png`, fullPage: true });
}

async function logIn(credentials: ApiKeyCredentials): Promise<void> {
  await page.goto(server.url);
  await page.getByLabel('Public key').fill(credentials.publicKey);
  await page.getByLabel('Private key').fill(credentials.privateKey);
  await page.getByRole('button', { name: 'Log in' }).click();
  await eventually(() => page.getByText(`Logged in as ${credentials.publicKey}`).count()).toBe(1);
}

beforeAll(async () => {
  expect(existsSync(CHROMIUM), `${CHROMIUM} is missing: install Debian's chromium (.ci/run does)`).toBe(true);
  mkdirSync(ARTIFACTS, { recursive: true });
  server = await startTestServer({ sampleRatePerSecond: 20 });
  readOnly = await createProjectKey(digestClient(server, server.owner), server.projectId, ['GROUP_READ_ONLY', 'GROUP_DATA_ACCESS_READ_ONLY'], 'console read-only');
  account = await createServiceAccount(digestClient(server, server.owner), server.orgId, ['ORG_OWNER'], 'console account');
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
  page = await browser.newPage({ viewport: { width: 1366, height: 800 } });
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

describe('the web console', { timeout: 120_000 }, () => {
  it('shows the connection details on its login page and nothing else without a login', async () => {
    await page.goto(server.url);
    await eventually(() => page.getByRole('heading', { name: 'Log in' }).count()).toBe(1);
    expect(await page.locator('dl').innerText()).toContain(server.projectId);
    // The keyboard reaches the form's fields in reading order.
    const focusOrder: string[] = [];
    for (let i = 0; i < 4; i++) {
      await page.keyboard.press('Tab');
      focusOrder.push(await page.evaluate(() => document.activeElement?.id || document.activeElement?.textContent || ''));
    }
    expect(focusOrder).toEqual(['login-kind', 'login-id', 'login-secret', 'Log in']);
    await shot('01-login');
    await page.getByLabel('Public key').fill(server.owner.publicKey);
    await page.getByLabel('Private key').fill('not-the-key');
    await page.getByRole('button', { name: 'Log in' }).click();
    await eventually(() => page.getByRole('alert').innerText()).toContain('These credentials were not accepted');
  });

  it('creates a workspace, showing Atlas\'s validation message next to the field', async () => {
    await logIn(server.owner);
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Skip to content');
    await page.getByLabel('Name', { exact: true }).fill('bad name!');
    await page.getByRole('button', { name: 'Create workspace' }).click();
    await eventually(() => page.locator('#ws-name-error').count()).toBe(1);
    expect(await page.getByLabel('Name', { exact: true }).getAttribute('aria-invalid')).toBe('true');
    await shot('02-workspace-validation');
    await page.getByLabel('Name', { exact: true }).fill('console-ws');
    await page.getByRole('button', { name: 'Create workspace' }).click();
    await eventually(() => page.getByRole('row', { name: /console-ws/ }).count()).toBe(1);
    await eventually(() => page.locator('#workspace').inputValue()).toBe('console-ws');
    await shot('03-workspaces');
  });

  it('creates a connection', async () => {
    await page.getByRole('link', { name: 'Connections' }).click();
    await page.getByLabel('Name', { exact: true }).fill('sample_stream_solar');
    await page.getByLabel('Type').selectOption('Sample');
    await page.getByRole('button', { name: 'Create connection' }).click();
    await eventually(() => page.getByRole('row', { name: /sample_stream_solar/ }).count()).toBe(1);
    await shot('04-connections');
  });

  it('creates a Kafka connection without a login for a local broker', async () => {
    await page.getByLabel('Name', { exact: true }).fill('local-kafka');
    await page.getByLabel('Type').selectOption('Kafka');
    await page.getByLabel('Bootstrap servers').fill('localhost:9092');
    await page.getByLabel('SASL mechanism').selectOption('none');
    expect(await page.getByLabel('Username').count()).toBe(0);
    await page.getByRole('button', { name: 'Create connection' }).click();
    await eventually(() => page.getByRole('row', { name: /local-kafka/ }).count()).toBe(1);
    const stored = await digestClient(server, server.owner).call(`/api/atlas/v2/groups/${server.projectId}/streams/console-ws/connections/local-kafka`);
    expect(stored.status, stored.text).toBe(200);
    expect(stored.json).toMatchObject({ type: 'Kafka', bootstrapServers: 'localhost:9092', security: { protocol: 'PLAINTEXT' } });
    expect(stored.json.authentication).toBeUndefined();
  });

  it('creates a connection of a type without a form in the JSON editor, and edits it as JSON losing nothing', async () => {
    const registry = { name: 'registry', type: 'SchemaRegistry', provider: 'CONFLUENT', schemaRegistryUrls: ['ftp://registry.example.com'],
      schemaRegistryAuthentication: { type: 'SASL_INHERIT' } };
    await page.getByLabel('Type').selectOption('SchemaRegistry');
    const editor = page.getByLabel(/^Request body/);
    expect(JSON.parse(await editor.inputValue())).toEqual({ name: '', type: 'SchemaRegistry' });
    await editor.fill(JSON.stringify(registry));
    await page.getByRole('button', { name: 'Create connection' }).click();
    await eventually(() => page.locator('#c-body-status').innerText()).toContain('VALIDATION_ERROR');
    expect(await editor.getAttribute('aria-invalid')).toBe('true');
    await editor.fill(JSON.stringify({ ...registry, schemaRegistryUrls: ['https://reg:s3cret-pass@registry.example.com:8081'] }));
    await page.getByRole('button', { name: 'Create connection' }).click();
    await eventually(() => page.getByRole('row', { name: /registry SchemaRegistry/ }).count()).toBe(1);
    const path = `/api/atlas/v2/groups/${server.projectId}/streams/console-ws/connections/registry`;
    const created = await digestClient(server, server.owner).call(path);
    expect(created.status, created.text).toBe(200);

    // The editor starts from the connection as the API returned it, the password in the URL masked.
    await page.getByRole('button', { name: 'Edit registry' }).click();
    const { id: _id, state: _state, region: _region, ...asReturned } = created.json;
    expect(JSON.parse(await editor.inputValue())).toEqual(asReturned);
    expect(asReturned.schemaRegistryUrls).toEqual(['https://reg:****@registry.example.com:8081']);
    const urls = [...asReturned.schemaRegistryUrls, 'https://backup.example.com:8081'];
    await editor.fill(JSON.stringify({ ...asReturned, schemaRegistryUrls: urls }, null, 2));
    await shot('04b-connection-json');
    await page.getByRole('button', { name: 'Save' }).click();
    await eventually(() => page.getByRole('heading', { name: 'Create a connection' }).count()).toBe(1);
    const updated = await digestClient(server, server.owner).call(path);
    expect(updated.status, updated.text).toBe(200);
    expect(updated.json).toEqual({ ...created.json, schemaRegistryUrls: urls });

    // A form sends back what it does not show: the headers of an Https connection survive a URL change.
    const hooks = `/api/atlas/v2/groups/${server.projectId}/streams/console-ws/connections`;
    const hook = await digestClient(server, server.owner).call(hooks, {
      method: 'POST', body: { name: 'hook', type: 'Https', url: 'https://hooks.example.com/a', headers: { Authorization: 'Bearer hook-secret' } },
    });
    expect(hook.status, hook.text).toBe(200);
    await page.reload();
    await logIn(server.owner);
    await page.getByRole('link', { name: 'Connections' }).click();
    await page.getByRole('button', { name: 'Edit hook', exact: true }).click();
    await page.getByLabel('URL').fill('https://hooks.example.com/b');
    await page.getByRole('button', { name: 'Save' }).click();
    await eventually(() => page.getByRole('row', { name: /hook Https https:\/\/hooks.example.com\/b/ }).count()).toBe(1);
    const hookNow = await digestClient(server, server.owner).call(`${hooks}/hook`);
    expect(hookNow.json).toEqual({ ...hook.json, url: 'https://hooks.example.com/b' });
    expect(hookNow.json.headers).toEqual({ Authorization: '****' });
  });

  it('creates a processor from the pipeline editor, showing the API\'s pipeline error first', async () => {
    await page.getByRole('link', { name: 'Processors' }).click();
    await page.getByLabel('Name', { exact: true }).fill('solar');
    const editor = page.getByLabel('Pipeline (a JSON array of stages)');
    await editor.fill('[{"$source": {"connectionName": "nowhere"}}]');
    await page.getByRole('button', { name: 'Create processor' }).click();
    await eventually(() => page.locator('#p-pipeline-status').innerText()).toContain('STREAM_PROCESSOR_GENERIC_ERROR');
    await shot('05-pipeline-error');
    await editor.fill(JSON.stringify([{ $source: { connectionName: 'sample_stream_solar' } }, { $match: { obs: { $exists: true } } },
      { $emit: { connectionName: '__testLog' } }]));
    await page.getByRole('button', { name: 'Create processor' }).click();
    await eventually(() => page.getByRole('row', { name: /solar CREATED/ }).count()).toBe(1);
  });

  it('starts it and shows the chart and the output moving, then stops it', async () => {
    await page.getByRole('button', { name: 'Start solar' }).click();
    await eventually(() => page.getByRole('row', { name: /solar STARTED/ }).count()).toBe(1);
    await page.getByRole('link', { name: 'solar' }).click();
    await eventually(() => page.locator('#processor-state').innerText()).toBe('STARTED');
    await eventually(async () => Number(await page.locator('.chart').getAttribute('data-points'))).toBeGreaterThanOrEqual(3);
    const before = Number(await page.locator('#count-output').innerText());
    await eventually(async () => Number(await page.locator('#count-output').innerText())).toBeGreaterThan(before);
    await eventually(() => page.locator('.output li').count()).toBeGreaterThanOrEqual(2);
    expect(await page.locator('.output li').first().innerText()).toContain('"obs"');
    expect(await page.getByRole('img', { name: /Rates chart: input \d/ }).count()).toBe(1);
    expect(await page.getByRole('row', { name: /\$source/ }).count()).toBe(1);
    await shot('06-processor-running');
    await page.getByRole('button', { name: 'Stop solar' }).click();
    await eventually(() => page.locator('#processor-state').innerText()).toBe('STOPPED');
    await shot('07-processor-stopped');
  });

  it('modifies the pipeline, and shows the failure message of a FAILED processor', async () => {
    const editor = page.getByLabel('Pipeline', { exact: true });
    await editor.fill(JSON.stringify([{ $source: { connectionName: 'sample_stream_solar' } }, { $match: { 'obs.watts': { $gte: 0 } } },
      { $emit: { connectionName: '__testLog' } }]));
    await page.getByRole('button', { name: 'Modify solar' }).click();
    await eventually(() => page.getByRole('row', { name: /\$match/ }).count()).toBe(1);
    await page.getByRole('button', { name: 'Start solar' }).click();
    await eventually(() => page.locator('#processor-state').innerText()).toBe('STARTED');
    const failed = await digestClient(server, server.owner).call('/emulator/v1/admin/faults/processor', {
      method: 'POST', body: { groupId: server.projectId, tenantName: 'console-ws', processorName: 'solar', message: 'disk on fire' },
    });
    expect(failed.status, failed.text).toBe(200);
    await eventually(() => page.locator('#processor-state').innerText()).toBe('FAILED');
    expect(await page.getByRole('alert').first().innerText()).toBe('Failed: disk on fire');
    await shot('08-processor-failed');
    const stored = await digestClient(server, server.owner).call(`/api/atlas/v2/groups/${server.projectId}/streams/console-ws/processor/solar`,
      { accept: 'application/vnd.atlas.2024-05-30+json' });
    expect(stored.json.pipeline[1]).toEqual({ $match: { 'obs.watts': { $gte: 0 } } });
  });

  it('shows dead letter queue records as they come', async () => {
    const pipeline = [{ $source: { connectionName: 'sample_stream_solar' } },
      { $validate: { validator: { device_id: 'no such device' }, validationAction: 'dlq' } }, { $emit: { connectionName: '__testLog' } }];
    const created = await digestClient(server, server.owner).call(`/api/atlas/v2/groups/${server.projectId}/streams/console-ws/processor`,
      { method: 'POST', body: { name: 'refuser', pipeline }, accept: 'application/vnd.atlas.2024-05-30+json' });
    expect(created.status, created.text).toBe(200);
    await page.getByRole('link', { name: 'All processors' }).click();
    await page.getByRole('button', { name: 'Start refuser' }).click();
    await eventually(() => page.getByRole('row', { name: /refuser STARTED/ }).count()).toBe(1);
    await page.getByRole('link', { name: 'refuser' }).click();
    await eventually(() => page.locator('#dead-letters li').count()).toBeGreaterThanOrEqual(2);
    const record = JSON.parse(await page.locator('#dead-letters li').first().innerText());
    expect(record).toMatchObject({ processorName: 'refuser', doc: { device_id: expect.stringMatching(/^device_/) }, errInfo: { reason: expect.any(String) } });
    await eventually(async () => Number(await page.locator('#count-dlq').innerText())).toBeGreaterThanOrEqual(2);
    await shot('08b-dead-letters');
    await page.getByRole('button', { name: 'Stop refuser' }).click();
    await eventually(() => page.locator('#processor-state').innerText()).toBe('STOPPED');
    const dropped = await digestClient(server, server.owner).call(`/api/atlas/v2/groups/${server.projectId}/streams/console-ws/processor/refuser`,
      { method: 'DELETE', accept: 'application/vnd.atlas.2024-05-30+json' });
    expect(dropped.status, dropped.text).toBe(204);
  });

  it('tries a pipeline over pasted documents without creating anything', async () => {
    await page.getByRole('link', { name: 'Try a pipeline' }).click();
    await page.getByRole('button', { name: 'Run' }).click();
    await eventually(() => page.locator('#try-summary').innerText()).toContain('2 documents out of 3 in');
    expect(await page.locator('pre.result').innerText()).toContain('"hot":true');
    await shot('09-try-pipeline');
    const processors = await digestClient(server, server.owner).call(`/api/atlas/v2/groups/${server.projectId}/streams/console-ws/processors`,
      { accept: 'application/vnd.atlas.2024-05-30+json' });
    expect(processors.json.results.map((p: { name: string }) => p.name)).toEqual(['solar']);
  });

  it('shows the request journal, filtered by operation', async () => {
    await page.getByRole('link', { name: 'Journal' }).click();
    await page.getByLabel('Operation').fill('startStreamProcessor');
    // A start is journaled when its response ends, which may come after the page saw STARTED: filter again until all three
    // (solar twice, refuser once) are in.
    await eventually(async () => {
      await page.getByRole('button', { name: 'Filter' }).click();
      return page.locator('tbody tr').count();
    }).toBe(3);
    expect(await page.locator('tbody tr').first().innerText()).toContain(server.owner.publicKey);
    await shot('10-journal');
  });

  it('lets a read-only key see what its roles allow and change nothing', async () => {
    await page.getByRole('button', { name: 'Log out' }).click();
    await logIn(readOnly);
    await eventually(() => page.getByRole('row', { name: /console-ws/ }).count()).toBe(1);
    await page.getByRole('link', { name: 'Connections' }).click();
    await eventually(() => page.getByRole('row', { name: /sample_stream_solar Sample/ }).count()).toBe(1);
    await page.getByRole('button', { name: 'Delete sample_stream_solar' }).click();
    await eventually(() => page.getByRole('alert').first().innerText()).toContain('USER_UNAUTHORIZED');
    await shot('11-read-only-refused');
    await page.reload();
    await logIn(readOnly);
    await page.getByRole('link', { name: 'Connections' }).click();
    await eventually(() => page.getByRole('row', { name: /sample_stream_solar Sample/ }).count()).toBe(1);
    // Atlas lets only Stream Processing Managers read processors, and they may start them too.
    await page.getByRole('link', { name: 'Processors' }).click();
    await eventually(() => page.getByRole('alert').first().innerText()).toContain('USER_UNAUTHORIZED');
    await page.getByRole('link', { name: 'Journal' }).click();
    await eventually(() => page.getByRole('alert').first().innerText()).toContain('USER_UNAUTHORIZED');
  });

  it('logs a service account in through OAuth', async () => {
    await page.getByRole('button', { name: 'Log out' }).click();
    await page.getByLabel('Log in with').selectOption('serviceAccount');
    await page.getByLabel('Client id').fill(account.clientId);
    await page.getByLabel('Client secret').fill(account.secret);
    await page.getByRole('button', { name: 'Log in' }).click();
    await eventually(() => page.getByText(`Logged in as ${account.clientId}`).count()).toBe(1);
    await page.getByRole('link', { name: 'Workspaces' }).click();
    await eventually(() => page.getByRole('row', { name: /console-ws/ }).count()).toBe(1);
  });

  it('logs a database user in, who sees its processors and is told the Admin API pages need a key', async () => {
    const created = await digestClient(server, server.owner).call(`/api/atlas/v2/groups/${server.projectId}/databaseUsers`, {
      method: 'POST', accept: 'application/vnd.atlas.2023-01-01+json',
      body: { databaseName: 'admin', groupId: server.projectId, username: 'console-reader', password: 'reader-pa55word',
        roles: [{ roleName: 'readAnyDatabase', databaseName: 'admin' }] },
    });
    expect(created.status, created.text).toBe(201);
    await page.getByRole('button', { name: 'Log out' }).click();
    await page.getByLabel('Log in with').selectOption('databaseUser');
    await page.getByLabel('Username').fill('console-reader');
    await page.getByLabel('Password').fill('wrong-password');
    await page.getByRole('button', { name: 'Log in' }).click();
    await eventually(() => page.getByRole('alert').innerText()).toContain('not authorized');
    await page.getByLabel('Password').fill('reader-pa55word');
    await page.getByRole('button', { name: 'Log in' }).click();
    await eventually(() => page.getByText('Logged in as console-reader').count()).toBe(1);
    await eventually(() => page.getByRole('status').innerText()).toContain('needs an API key or a service account');
    await page.getByRole('link', { name: 'Processors' }).click();
    await eventually(() => page.getByRole('row', { name: /solar FAILED/ }).count()).toBe(1);
    await shot('11b-database-user');
    // readAnyDatabase may read, not start: the wire endpoint's own refusal.
    await page.getByRole('button', { name: 'Start solar' }).click();
    await eventually(() => page.getByRole('alert').first().innerText()).toContain('missing privilege for action startStreamProcessor');
  });

  it('names the missing role of the refusal in the owner\'s journal', async () => {
    await page.getByRole('button', { name: 'Log out' }).click();
    await logIn(server.owner);
    await page.getByRole('link', { name: 'Journal' }).click();
    await page.getByLabel('Status').fill('401');
    await page.getByLabel('Operation').fill('deleteStreamConnection');
    await page.getByRole('button', { name: 'Filter' }).click();
    await eventually(() => page.locator('tbody tr').count()).toBe(1);
    const row = await page.locator('tbody tr').innerText();
    expect(row).toContain(readOnly.publicKey);
    expect(row).toContain('GROUP_STREAM_PROCESSING_OWNER');
    await shot('12-journal-refusal');
  });
});
