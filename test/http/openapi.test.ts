import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import diagnostics from 'node:diagnostics_channel';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance, RouteOptions } from 'fastify';
import { API_PREFIX } from '../../src/app.js';
import { API_TITLE } from '../../src/http/openapi.js';
import { buildTestApp, type TestApp } from '../helpers/app.js';
import { createTestStore, type TestStore } from '../helpers/stores.js';

type Json = Record<string, any>;

interface RegisteredRoute {
  method: string;
  url: string;
  schema: Json | undefined;
}

const CHROMIUM = '/usr/bin/chromium';

// swagger-ui's own routes: the page's trailing-slash twin, its copy of the document, the page's scripts and styles.
// They serve the docs page and are not part of the API; GET /docs itself is documented.
const DOCS_UI_ROUTES = new Set([
  '/docs/',
  '/docs/json',
  '/docs/yaml',
  '/docs/static/index.html',
  '/docs/static/swagger-initializer.js',
  '/docs/static/*',
]);

const OPENAPI_API_PREFIX = toOpenApiPath(API_PREFIX);

/** Fastify's `/contacts/:id` is OpenAPI's `/contacts/{id}`; a trailing wildcard (`/console/*`) is @fastify/swagger's `{*}`. */
function toOpenApiPath(url: string): string {
  return url.replace(/:(\w+)/g, '{$1}').replace(/\/\*$/, '/{*}');
}

/**
 * Builds the app while recording every route it registers. Fastify announces each new instance on the
 * `fastify.initialization` diagnostics channel before any plugin runs, so the onRoute hook sees all routes,
 * independently of what @fastify/swagger collected.
 */
async function buildRecordingApp(store: TestStore): Promise<{ api: TestApp; routes: RegisteredRoute[] }> {
  const routes: RegisteredRoute[] = [];
  const onInit = (message: unknown) => {
    const { fastify } = message as { fastify: FastifyInstance };
    fastify.addHook('onRoute', (route: RouteOptions) => {
      // Read now: Fastify reuses this object for the trailing-slash twin of a prefix route.
      const methods = Array.isArray(route.method) ? route.method : [route.method];
      for (const method of methods) routes.push({ method, url: route.url, schema: route.schema as Json | undefined });
    });
  };
  diagnostics.subscribe('fastify.initialization', onInit);
  try {
    const api = await buildTestApp(store.store);
    await api.app.ready();
    return { api, routes };
  } finally {
    diagnostics.unsubscribe('fastify.initialization', onInit);
  }
}

/** Every `$ref` in the document, with where it was found. */
function collectRefs(node: unknown, at: string, found: { ref: string; at: string }[] = []): { ref: string; at: string }[] {
  if (Array.isArray(node)) node.forEach((child, i) => collectRefs(child, `${at}/${i}`, found));
  else if (node !== null && typeof node === 'object') {
    for (const [key, value] of Object.entries(node)) {
      if (key === '$ref' && typeof value === 'string') found.push({ ref: value, at });
      else collectRefs(value, `${at}/${key}`, found);
    }
  }
  return found;
}

/** Resolves a local JSON pointer (`#/components/schemas/ErrorBody/properties/errors`). */
function resolvePointer(document: Json, ref: string): unknown {
  assert.ok(ref.startsWith('#/'), `${ref} is not a reference inside the document`);
  let node: unknown = document;
  for (const raw of ref.slice(2).split('/')) {
    const key = decodeURIComponent(raw).replace(/~1/g, '/').replace(/~0/g, '~');
    if (node === null || typeof node !== 'object' || !(key in node)) return undefined;
    node = (node as Json)[key];
  }
  return node;
}

function operations(document: Json): { path: string; method: string; operation: Json }[] {
  return Object.entries(document.paths as Record<string, Json>).flatMap(([p, item]) =>
    Object.entries(item)
      .filter(([method]) => ['get', 'put', 'post', 'delete', 'patch', 'head', 'options', 'trace'].includes(method))
      .map(([method, operation]) => ({ path: p, method, operation: operation as Json })),
  );
}

/** The parameters of an operation, references resolved. */
function parametersOf(document: Json, operation: Json): Json[] {
  return ((operation.parameters ?? []) as Json[]).map((p) => (p.$ref ? (resolvePointer(document, p.$ref) as Json) : p));
}

/** Whether a schema is, or offers as one of its alternatives, a reference to the named component. */
function refersTo(schema: Json | undefined, component: string): boolean {
  if (!schema) return false;
  const target = `#/components/schemas/${component}`;
  return schema.$ref === target || [...(schema.anyOf ?? []), ...(schema.oneOf ?? [])].some((s: Json) => s.$ref === target);
}

// The document is built from route schemas only; it does not depend on the store, so one store is enough.
describe('OpenAPI document and docs page', () => {
  let store: TestStore;
  let api: TestApp;
  let routes: RegisteredRoute[];
  let document: Json;

  before(async () => {
    store = await createTestStore('sqlite');
    ({ api, routes } = await buildRecordingApp(store));
    const res = await api.app.inject({ method: 'GET', url: '/openapi.json' });
    assert.equal(res.statusCode, 200, res.body);
    document = JSON.parse(res.body);
  });
  after(async () => {
    await api?.close();
    await store?.destroy();
  });

  it('serves an OpenAPI 3.1 document as JSON, without authentication', async () => {
    const res = await api.app.inject({ method: 'GET', url: '/openapi.json' });
    assert.equal(res.statusCode, 200);
    assert.match(String(res.headers['content-type']), /^application\/json/);
    const parsed = JSON.parse(res.body);
    assert.match(parsed.openapi, /^3\.1\.\d+$/);
    assert.equal(parsed.info.title, API_TITLE);
    assert.match(parsed.info.version, /^\d+\.\d+\.\d+/);
    assert.ok(Array.isArray(parsed.servers) && parsed.servers.length > 0);
  });

  it('documents every route the server registers, each method and path', () => {
    // The HEAD beside every GET is said once, in the document's description (checked below), not listed.
    const apiRoutes = routes.filter((r) => !DOCS_UI_ROUTES.has(r.url) && r.method !== 'HEAD');
    // The recording works: the routes known today are among those seen.
    for (const [method, url] of [
      ['POST', `${API_PREFIX}/contacts`],
      ['PUT', `${API_PREFIX}/contacts/:id`],
      ['POST', `${API_PREFIX}/contacts/import-contacts`],
      ['GET', '/healthz'],
      ['GET', '/readyz'],
      ['GET', '/openapi.json'],
      ['GET', '/docs'],
    ]) {
      assert.ok(apiRoutes.some((r) => r.method === method && r.url === url), `${method} ${url} was not recorded`);
    }
    // The exclusions name routes that exist, so the list cannot hide a route by a stale name.
    for (const url of DOCS_UI_ROUTES) assert.ok(routes.some((r) => r.url === url), `${url} is not a route any more`);

    const missing = apiRoutes
      .filter((r) => !document.paths[toOpenApiPath(r.url)]?.[r.method.toLowerCase()])
      .map((r) => `${r.method} ${r.url}`);
    assert.deepEqual(missing, []);
  });

  it('documents no operation the server does not have', () => {
    const registered = new Set(routes.map((r) => `${r.method} ${toOpenApiPath(r.url)}`));
    const invented = operations(document)
      .map(({ path: p, method }) => `${method.toUpperCase()} ${p}`)
      .filter((op) => !registered.has(op));
    assert.deepEqual(invented, []);
  });

  it('gives every operation a summary, and lists no HEAD twin of a GET (the description says HEAD is answered)', () => {
    const ops = operations(document);
    assert.ok(ops.length > 15);
    assert.deepEqual(ops.filter(({ method }) => method === 'head').map(({ path: p }) => p), []);
    const unsummarised = ops.filter(({ operation }) => typeof operation.summary !== 'string' || operation.summary.trim() === '');
    assert.deepEqual(unsummarised.map(({ path: p, method }) => `${method} ${p}`), []);
    assert.match(document.info.description, /Every GET also answers HEAD/);
  });

  it('answers HEAD beside every GET, though the document does not list it', async () => {
    const res = await api.app.inject({ method: 'HEAD', url: '/readyz' });
    assert.equal(res.statusCode, 200);
    assert.equal(res.body, '');
  });

  it("documents each route's path, query and header parameters, request body and answers from its schema", () => {
    for (const route of routes.filter((r) => !DOCS_UI_ROUTES.has(r.url) && r.method !== 'HEAD')) {
      const name = `${route.method} ${route.url}`;
      const operation = document.paths[toOpenApiPath(route.url)][route.method.toLowerCase()] as Json;
      const parameters = parametersOf(document, operation);
      for (const [, param] of toOpenApiPath(route.url).matchAll(/\{(\w+)\}/g)) {
        assert.ok(parameters.some((p) => p.in === 'path' && p.name === param && p.required === true), `${name}: path parameter ${param}`);
      }
      for (const query of Object.keys(route.schema?.querystring?.properties ?? {})) {
        assert.ok(parameters.some((p) => p.in === 'query' && p.name === query), `${name}: query parameter ${query}`);
      }
      for (const header of Object.keys(route.schema?.headers?.properties ?? {})) {
        if (['auth', 'authorization'].includes(header.toLowerCase())) continue; // the security schemes carry these
        assert.ok(
          parameters.some((p) => p.in === 'header' && String(p.name).toLowerCase() === header.toLowerCase()),
          `${name}: header ${header}`,
        );
      }
      if (route.schema?.body && route.method !== 'HEAD') assert.ok(operation.requestBody?.content, `${name}: request body`);
      for (const status of Object.keys(route.schema?.response ?? {})) {
        const answer = operation.responses?.[status];
        assert.ok(answer, `${name}: answer ${status}`);
        assert.ok(answer.description && answer.description !== 'Default Response', `${name}: answer ${status} is described`);
      }
    }
  });

  it('parses as JSON and every $ref resolves inside the document', () => {
    const refs = collectRefs(document, '#');
    assert.ok(refs.length > 0, 'the document uses references');
    const dangling = refs.filter(({ ref }) => resolvePointer(document, ref) === undefined).map(({ ref, at }) => `${ref} at ${at}`);
    assert.deepEqual(dangling, []);
  });

  it('describes the error shape once, as a component, and every failure answer uses it', () => {
    const errorBody = document.components.schemas.ErrorBody;
    assert.equal(errorBody.type, 'object');
    assert.deepEqual(errorBody.required, ['errors']);
    assert.deepEqual(errorBody.properties.errors.items.required, ['msg', 'code']);
    let failures = 0;
    for (const { path: p, method, operation } of operations(document)) {
      if (method === 'head') continue;
      for (const [status, answer] of Object.entries(operation.responses as Record<string, Json>)) {
        if (Number(status) < 400) continue;
        failures += 1;
        assert.ok(refersTo(answer.content?.['application/json']?.schema, 'ErrorBody'), `${method} ${p} ${status}`);
      }
    }
    assert.ok(failures > 0);
  });

  it('documents the contacts routes with the auth header and the accountId header; the others need neither', async () => {
    assert.deepEqual(document.components.securitySchemes.auth, {
      ...document.components.securitySchemes.auth,
      type: 'apiKey',
      in: 'header',
      name: 'auth',
    });
    assert.equal(document.security, undefined, 'no document-wide requirement');
    const apiOperations = operations(document).filter(({ path: p }) => p.startsWith(`${OPENAPI_API_PREFIX}/`));
    assert.ok(apiOperations.length >= 3);
    for (const { path: p, method, operation } of apiOperations) {
      assert.ok((operation.security as Json[]).some((requirement) => 'auth' in requirement), `${method} ${p}: auth`);
      const accountId = parametersOf(document, operation).find((param) => param.in === 'header' && param.name === 'accountId');
      assert.equal(accountId?.required, true, `${method} ${p}: accountId header`);
    }
    for (const open of ['/openapi.json', '/docs', '/healthz', '/readyz']) {
      assert.ok(document.paths[open]?.get, `${open} is documented`);
      assert.equal(document.paths[open].get.security, undefined, `${open} needs no auth`);
      const res = await api.app.inject({ method: 'GET', url: open });
      assert.equal(res.statusCode, 200, `${open} answers without auth headers`);
    }
    const guarded = await api.app.inject({ method: 'POST', url: `${toOpenApiPath(API_PREFIX).replace('{streamId}', 'st-x')}/contacts`, payload: [] });
    assert.equal(guarded.statusCode, 401);
  });

  it('documents the Idempotency-Key header and its 409/422 answers on every changing contacts route', () => {
    const changing = operations(document).filter(
      ({ path: p, method }) => p.startsWith(`${OPENAPI_API_PREFIX}/`) && ['post', 'put', 'patch', 'delete'].includes(method),
    );
    assert.ok(changing.length >= 3);
    for (const { path: p, method, operation } of changing) {
      const key = parametersOf(document, operation).find((param) => param.in === 'header' && param.name === 'Idempotency-Key');
      assert.ok(key?.description, `${method} ${p}: Idempotency-Key`);
      assert.ok(operation.responses['409'] && operation.responses['422'], `${method} ${p}: 409 and 422`);
    }
  });

  it('documents the import upload as multipart result_file or text/csv, its options and its answers', () => {
    const operation = document.paths[`${OPENAPI_API_PREFIX}/contacts/import-contacts`].post;
    const content = operation.requestBody.content;
    const file = content['multipart/form-data'].schema.properties.result_file;
    assert.equal(file.type, 'string');
    assert.equal(file.format, 'binary');
    assert.equal(content['text/csv'].schema.type, 'string');

    const query = new Map(parametersOf(document, operation).filter((p) => p.in === 'query').map((p) => [p.name, p]));
    for (const option of ['onDuplicate', 'atomic', 'dryRun', 'report']) {
      assert.ok(query.get(option)?.description, `${option} is described`);
    }
    assert.deepEqual(query.get('onDuplicate')?.schema.enum, ['reject', 'update']);

    for (const status of ['200', '207', '400', '409']) {
      assert.ok(operation.responses[status]?.description, `${status} is described`);
    }
    assert.ok(refersTo(operation.responses['207'].content['application/json'].schema, 'ImportReport'));
    assert.ok(refersTo(operation.responses['400'].content['application/json'].schema, 'ImportReport'));
    assert.ok(refersTo(operation.responses['409'].content['application/json'].schema, 'ImportReport'));
    const report = document.components.schemas.ImportReport;
    assert.deepEqual(report.required, ['totalRequested', 'successful', 'failed', 'successfulRecords', 'failedRecords']);
  });

  it('serves the docs page as HTML at /docs', async () => {
    const res = await api.app.inject({ method: 'GET', url: '/docs' });
    assert.equal(res.statusCode, 200);
    assert.match(String(res.headers['content-type']), /^text\/html/);
    assert.match(res.body, /swagger-ui-bundle\.js/);
    // The API's title only appears once the page has rendered the document (checked in a browser below).
    assert.ok(!res.body.includes(API_TITLE));
    const script = await api.app.inject({ method: 'GET', url: '/docs/static/swagger-ui-bundle.js' });
    assert.equal(script.statusCode, 200);
  });

  it('renders the document in a browser, showing the API title', {
    skip: fs.existsSync(CHROMIUM) ? false : `${CHROMIUM} is not installed; the page is not rendered in a browser`,
  }, async () => {
    await api.app.listen({ port: 0, host: '127.0.0.1' });
    const address = api.app.server.address();
    assert.ok(address !== null && typeof address === 'object');
    const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'dialbook-chromium-'));
    try {
      const { stdout } = await promisify(execFile)(
        CHROMIUM,
        [
          '--headless',
          '--no-sandbox',
          '--disable-gpu',
          '--disable-background-networking',
          `--user-data-dir=${profile}`,
          // Lets the page's scripts fetch the document and render it before the DOM is dumped.
          '--virtual-time-budget=20000',
          '--dump-dom',
          `http://127.0.0.1:${address.port}/docs`,
        ],
        { maxBuffer: 64 * 1024 * 1024, timeout: 120_000 },
      );
      assert.ok(stdout.includes(API_TITLE), `the rendered page does not show "${API_TITLE}"`);
    } finally {
      fs.rmSync(profile, { recursive: true, force: true });
    }
  });
});
