// The console's files over app.request(): types, security headers, revalidation, the trailing-slash redirect.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { createRegistryFixture, type RegistryFixture } from '../testing/registry-fixture.js';
import { createTestKeys } from '../testing/test-keys.js';
import { CONSOLE_CSP } from './console-routes.js';

describe('console routes', () => {
  let fx: RegistryFixture;
  before(async () => {
    fx = await createRegistryFixture({ keys: createTestKeys() });
  });
  after(() => fx.close());

  it('serves the page, its stylesheet and its script with their types and a strict CSP, without a token', async () => {
    for (const [path, type, marker] of [
      ['/console', 'text/html', '<form id="login"'],
      ['/console/console.css', 'text/css', '.error-text'],
      ['/console/console.js', 'text/javascript', 'sessionStorage.getItem(TOKEN_KEY)'],
    ] as const) {
      const res = await fx.request(path);
      assert.equal(res.status, 200, path);
      assert.match(res.headers.get('content-type') ?? '', new RegExp(`^${type}`), path);
      assert.equal(res.headers.get('content-security-policy'), CONSOLE_CSP);
      assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
      assert.ok((await res.text()).includes(marker), `${path} has ${marker}`);
    }
    assert.match(CONSOLE_CSP, /script-src 'self'/);
    assert.doesNotMatch(CONSOLE_CSP, /unsafe/);
  });

  it('answers 304 to a matching If-None-Match, so reloads cost nothing', async () => {
    const first = await fx.request('/console/console.js');
    const etag = first.headers.get('etag');
    assert.ok(etag);
    assert.equal(first.headers.get('cache-control'), 'no-cache');
    const again = await fx.request('/console/console.js', { headers: { 'if-none-match': etag } });
    assert.equal(again.status, 304);
  });

  it('redirects /console/ to /console, where its relative links resolve', async () => {
    const res = await fx.request('/console/');
    assert.equal(res.status, 308);
    assert.equal(new URL(res.headers.get('location') ?? '', 'http://edge/console/').pathname, '/console');
  });

  it('keeps the console out of the OpenAPI document (it is not API)', async () => {
    const doc = (await (await fx.request('/v1/openapi.json')).json()) as { paths: Record<string, unknown> };
    assert.ok(Object.keys(doc.paths).every((p) => !p.startsWith('/console')));
  });

  it('serves a script that parses as an ES module', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'bpfleet-console-'));
    try {
      await writeFile(join(dir, 'console.mjs'), await (await fx.request('/console/console.js')).text());
      await promisify(execFile)(process.execPath, ['--check', join(dir, 'console.mjs')]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
