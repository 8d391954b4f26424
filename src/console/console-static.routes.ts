import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyPluginAsync } from 'fastify';
import { ServiceUnavailableError } from '../shared/errors.js';

/** Where `npm run build` puts the console (scripts/build-console.mjs): the same place from src/ (tsx) and dist/. */
export const CONSOLE_DIST = fileURLToPath(new URL('../../dist/web/', import.meta.url));

const PAGE_HEADERS = {
  'cache-control': 'no-cache',
  // Everything the page loads is its own: no CDN, no inline script.
  'content-security-policy': "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'same-origin',
};

/**
 * The console's page at /console and every path under it (the page routes itself, so a typed or bookmarked URL
 * works), its fingerprinted assets under /console/assets/ cached for a year, and `/` linking to it.
 */
export function consoleStaticRoutes(options: { dir?: string } = {}): FastifyPluginAsync {
  const dir = options.dir ?? CONSOLE_DIST;
  return async (app) => {
    const indexFile = `${dir}index.html`;
    const index = fs.existsSync(indexFile) ? fs.readFileSync(indexFile) : undefined;
    const page = async (_request: unknown, reply: import('fastify').FastifyReply) => {
      if (!index) throw new ServiceUnavailableError({ msg: 'The console is not built; run `npm run build`', code: 'CONSOLE_NOT_BUILT' });
      return reply.headers(PAGE_HEADERS).type('text/html; charset=utf-8').send(index);
    };
    const pageSchema = (summary: string) => ({
      tags: ['console'],
      summary,
      description: 'The console\'s single page (it routes itself, so a typed URL under /console works); docs/console.md.',
      produces: ['text/html'],
      response: { 200: { description: 'An HTML page (or 503 CONSOLE_NOT_BUILT when `npm run build` has not run)', type: 'string' } },
    });
    app.get('/console', { schema: pageSchema('The console') }, page);
    app.get('/console/*', { schema: pageSchema('A page of the console') }, page);
    if (fs.existsSync(`${dir}assets`)) {
      await app.register(fastifyStatic, {
        root: `${dir}assets`,
        prefix: '/console/assets/',
        decorateReply: false,
        index: false,
        schemaHide: false,
        wildcard: true,
        // Every file name carries a hash of its content: a new build is a new name, so the old one may be kept for ever.
        cacheControl: false,
        setHeaders: (res) => {
          res.header('cache-control', 'public, max-age=31536000, immutable');
          res.header('x-content-type-options', 'nosniff');
        },
      });
    }
    app.get('/', {
      schema: { tags: ['console'], summary: 'Home: links to the console and the API docs', produces: ['text/html'], response: { 200: { description: 'An HTML page', type: 'string' } } },
    }, async (_request, reply) =>
      reply
        .type('text/html; charset=utf-8')
        .header('cache-control', 'no-cache')
        .send(
          '<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">' +
            '<title>Dialbook</title></head><body><main><h1>Dialbook</h1>' +
            '<p>A self-hosted contact directory that speaks the SmartAssist / AgentAssist Contacts API.</p>' +
            '<ul><li><a href="/console">Open the console</a></li><li><a href="/docs">API reference</a></li></ul></main></body></html>',
        ),
    );
  };
}
