import { readFileSync } from 'node:fs';
import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';

/** `info.title` of the document; the docs page shows it once it has rendered the document. */
export const API_TITLE = 'Dialbook Contacts API';
export const OPENAPI_PATH = '/openapi.json';
export const DOCS_PATH = '/docs';

export interface OpenApiOptions {
  /** The Fastify prefix of the authenticated routes, e.g. `/agentassist/api/v1/public/:streamId`. */
  apiPrefix: string;
}

type Json = Record<string, unknown>;

const SECURITY = [{ auth: [] }, { bearerAuth: [] }];
const ACCOUNT_ID_PARAMETER = { $ref: '#/components/parameters/accountId' };
const IDEMPOTENCY_KEY_PARAMETER = { $ref: '#/components/parameters/IdempotencyKey' };
const ERROR_CONTENT = { 'application/json': { schema: { $ref: '#/components/schemas/ErrorBody' } } };
// The methods whose effect an Idempotency-Key makes happen once (src/idempotency).
const CHANGING_METHODS = new Set(['post', 'put', 'patch', 'delete']);
const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'options', 'trace'];

// What the contract says each failure status means; routes may say more in their own response schemas.
const STATUS_TEXT: Record<string, string> = {
  200: 'Success',
  400: 'Malformed input; each failure is listed in `errors`',
  401: 'No token, or a token that is not valid',
  403: 'The token is valid but not allowed here (account, scope)',
  404: 'Unknown or unreachable stream or contact',
  409: 'A phone number is already held by an ACTIVE contact, or a request under the same Idempotency-Key is still running',
  413: 'Too large; the message says which limit',
  415: 'The upload is not readable text, or the content type is not accepted',
  422: 'The Idempotency-Key was used before for a different request',
  429: "Over the account's per-minute rate limit; see `Retry-After`",
  503: 'The store is not answering, or the instance is shutting down; see `Retry-After`',
};

/**
 * Registers the OpenAPI document (`GET /openapi.json`) and the docs page (`GET /docs`). Call it before any
 * route is added: @fastify/swagger collects routes as they are registered, so routes added later by any
 * plugin appear in the document without being listed here.
 */
export async function registerOpenApi(app: FastifyInstance, options: OpenApiOptions): Promise<void> {
  const apiPath = options.apiPrefix.replace(/:(\w+)/g, '{$1}');

  await app.register(fastifySwagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: API_TITLE,
        version: packageVersion(),
        description:
          'A self-hosted contact directory that speaks the Kore.ai SmartAssist / AgentAssist public Contacts API. ' +
          `Every route under \`${apiPath}\` needs a JWT in the \`auth\` header (or \`Authorization: Bearer\`) ` +
          'and the `accountId` header; failures answer `{"errors":[{"msg","code"}]}` (the `ErrorBody` schema). ' +
          'Every GET also answers HEAD: the same status and headers, without the body.',
        license: { name: 'Apache-2.0', identifier: 'Apache-2.0' },
      },
      servers: [{ url: '/', description: 'The Dialbook instance serving this document' }],
      tags: [
        { name: 'contacts', description: 'Contacts of a stream (bot instance)' },
        { name: 'import', description: 'Bulk creation from a CSV file' },
        { name: 'webhooks', description: 'Signed webhooks (Standard Webhooks) for contact and import events' },
        { name: 'health', description: 'Liveness and readiness probes; no authentication' },
        { name: 'documentation', description: 'This document and its docs page; no authentication' },
      ],
      components: {
        securitySchemes: {
          auth: {
            type: 'apiKey',
            in: 'header',
            name: 'auth',
            description: "A JWT signed with the app's client secret (HS256) or key (RS256/ES256); claim `appId` names the client id.",
          },
          bearerAuth: {
            type: 'http',
            scheme: 'bearer',
            bearerFormat: 'JWT',
            description: 'The same JWT as `auth`, sent as `Authorization: Bearer <jwt>`.',
          },
        },
        parameters: {
          accountId: {
            name: 'accountId',
            in: 'header',
            required: true,
            description: "The app's account: 24 lowercase hex characters (the header name is case-insensitive).",
            schema: { type: 'string', pattern: '^[0-9a-f]{24}$' },
          },
          IdempotencyKey: {
            name: 'Idempotency-Key',
            in: 'header',
            required: false,
            description:
              'Makes a retry safe: the same key with the same request replays the first answer (status and body, ' +
              'marked `Idempotent-Replayed: true`) without a second effect; with a different request: 422; while the ' +
              'first is still running: 409. Keys are kept at least 24 hours, per account.',
            schema: { type: 'string', minLength: 1, maxLength: 255 },
          },
        },
      },
    },
    // Fastify answers HEAD beside every GET (said once, in the description); a HEAD twin of every GET operation
    // would double the document for nothing a reader needs.
    exposeHeadRoutes: false,
    // Shared schemas keep their `$id` as component name (ErrorBody, Contact, …) instead of `def-N`.
    refResolver: {
      buildLocalReference: (json: Json, _baseUri: unknown, _fragment: string, i: number) =>
        typeof json.$id === 'string' ? json.$id.replace(/[^\w.-]/g, '_') : `def-${i}`,
    },
    transform: ({ schema, url }) => {
      // @fastify/static registers the console's files without a schema of ours: they get their summary here.
      if (url === '/console/assets/*') {
        return { schema: { ...schema, tags: ['console'], summary: "A file of the console's page (script, style), by its hashed name" }, url };
      }
      // swagger-ui hides all of its routes; the page itself is part of the API a person uses. Fastify adds
      // `/docs/` beside `/docs` and may hand either url here, so both are matched and documented as one.
      if (url !== DOCS_PATH && url !== `${DOCS_PATH}/`) return { schema, url };
      return {
        url: DOCS_PATH,
        schema: {
          ...schema,
          hide: false,
          tags: ['documentation'],
          summary: 'Docs page',
          description: `Swagger UI over this document (which it also serves at \`${DOCS_PATH}/json\`).`,
          produces: ['text/html'],
          response: { 200: { description: 'An HTML page', type: 'string' } },
        },
      };
    },
    transformObject: (document) =>
      'openapiObject' in document ? completeOperations(document.openapiObject, apiPath) : document.swaggerObject,
  });

  await app.register(fastifySwaggerUi, {
    routePrefix: DOCS_PATH,
    uiConfig: { docExpansion: 'list', deepLinking: true },
    theme: { title: 'Dialbook API docs' },
  });

  app.get(OPENAPI_PATH, {
    schema: {
      tags: ['documentation'],
      summary: 'This OpenAPI 3.1 document',
      description: 'Built from the route schemas at start-up.',
      response: { 200: { description: 'The OpenAPI document', type: 'object', additionalProperties: true } },
    },
    handler: async () => app.swagger(),
  });
}

/**
 * Adds to every operation what routes leave to this module: the authentication of the API prefix and the
 * Idempotency-Key of its changing methods, a tag, and a description for each answer.
 */
function completeOperations<T>(document: T, apiPath: string): T {
  const paths = ((document as Json).paths ?? {}) as Record<string, Record<string, Json>>;
  for (const [path, item] of Object.entries(paths)) {
    // A route that names HEAD itself beside its GET (the console's assets) is still said once, as the GET.
    if (item.get && item.head) delete item.head;
    const authenticated = path === apiPath || path.startsWith(`${apiPath}/`);
    for (const method of METHODS) {
      const operation = item[method];
      if (!operation) continue;
      if (authenticated) requireTenant(operation);
      if (authenticated && CHANGING_METHODS.has(method)) acceptIdempotencyKey(operation);
      if (authenticated && !(Array.isArray(operation.tags) && operation.tags.length > 0)) operation.tags = ['contacts'];
      describeResponses(operation);
    }
  }
  return document;
}

function requireTenant(operation: Json): void {
  operation.security ??= SECURITY;
  const parameters = (operation.parameters ?? []) as Json[];
  const declared = parameters.some((p) => p.in === 'header' && String(p.name).toLowerCase() === 'accountid');
  if (!declared) operation.parameters = [ACCOUNT_ID_PARAMETER, ...parameters];
}

function acceptIdempotencyKey(operation: Json): void {
  const parameters = (operation.parameters ?? []) as Json[];
  const declared = parameters.some((p) => p.in === 'header' && String(p.name).toLowerCase() === 'idempotency-key');
  if (!declared) operation.parameters = [...parameters, IDEMPOTENCY_KEY_PARAMETER];
  const responses = (operation.responses ??= {}) as Record<string, Json>;
  responses['409'] ??= { description: STATUS_TEXT[409], content: ERROR_CONTENT };
  responses['422'] ??= { description: STATUS_TEXT[422], content: ERROR_CONTENT };
}

function describeResponses(operation: Json): void {
  const responses = (operation.responses ?? {}) as Record<string, Json>;
  for (const [status, response] of Object.entries(responses)) {
    if (response.description === 'Default Response' || !response.description) {
      response.description = STATUS_TEXT[status] ?? (status.startsWith('2') ? 'Success' : 'Failure; see `errors`');
    }
  }
}

function packageVersion(): string {
  // ../../package.json from both src/http (tsx) and dist/http (built).
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: string };
  return pkg.version ?? '0.0.0';
}
