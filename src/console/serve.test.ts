// The console's page and assets: public, with the connection details only, and guarded
// against framing and injected scripts; the data behind them still needs a login.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callAnonymous, startTestServer, type TestServer } from '../testing/harness.js';
import { consolePage } from './serve.js';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server.close();
});

describe('the console page', () => {
  it('is served at / without login, with the connection details and the bundle, and no secret', async () => {
    const res = await fetch(`${server.url}/`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(res.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(res.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    const html = await res.text();
    const info = JSON.parse(/<script type="application\/json" id="server-info">(.*?)<\/script>/.exec(html)![1]!);
    expect(info).toEqual({ baseUrl: server.url, orgId: server.orgId, projectId: server.projectId, publicKey: server.owner.publicKey,
      specPath: '/spec/atlas-admin-v2.yaml' });
    expect(html).not.toContain(server.owner.privateKey);
  });

  it('serves its script and style sheet built into the package', async () => {
    const script = await fetch(`${server.url}/console/app.js`);
    expect(script.status).toBe(200);
    expect(script.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect((await script.text()).length).toBeGreaterThan(1000);
    const style = await fetch(`${server.url}/console/app.css`);
    expect(style.headers.get('content-type')).toBe('text/css; charset=utf-8');
    expect(await style.text()).toContain('.json-editor');
  });

  it('answers other console paths as unknown resources, and the API still needs credentials', async () => {
    const other = await callAnonymous(`${server.url}/console/other.js`);
    expect(other.status).toBe(404);
    expect(other.json.errorCode).toBe('RESOURCE_NOT_FOUND');
    const api = await callAnonymous(`${server.url}/api/atlas/v2/groups/${server.projectId}/streams`);
    expect(api.status).toBe(401);
    expect(api.headers.get('www-authenticate')).toContain('Digest');
  });

  it('keeps a value that tries to close the script element inside it', () => {
    const html = consolePage({ baseUrl: 'http://x</script><script>alert(1)</script>', orgId: 'o', projectId: 'p', publicKey: 'k', specPath: '/s' });
    expect(html).not.toContain('</script><script>alert(1)');
    const json = /id="server-info">(.*?)<\/script>/.exec(html)![1]!;
    expect(JSON.parse(json).baseUrl).toBe('http://x</script><script>alert(1)</script>');
  });
});
