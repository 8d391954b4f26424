import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { isStoreUnavailable } from '../db/errors.js';
import { DomainError, RateLimitedError, ServiceUnavailableError, type ErrorDetail, type ErrorKind } from '../shared/errors.js';

/** The one table from domain errors to HTTP. */
const STATUS: Record<ErrorKind, number> = {
  invalid: 400,
  unauthenticated: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  unprocessable: 422,
  too_large: 413,
  unsupported_media: 415,
  rate_limited: 429,
  unavailable: 503,
};

// Fastify's own 4xx errors, given the contract's codes.
const FASTIFY_CODES: Record<string, { status: number; code: string }> = {
  FST_ERR_CTP_INVALID_MEDIA_TYPE: { status: 415, code: 'UNSUPPORTED_MEDIA_TYPE' },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: { status: 400, code: 'INVALID_CONTENT_LENGTH' },
  FST_ERR_CTP_BODY_TOO_LARGE: { status: 413, code: 'BODY_TOO_LARGE' },
  FST_ERR_CTP_EMPTY_JSON_BODY: { status: 400, code: 'EMPTY_BODY' },
  FST_ERR_CTP_INVALID_JSON_BODY: { status: 400, code: 'INVALID_JSON' },
  FST_ERR_CTP_EMPTY_TYPE: { status: 415, code: 'UNSUPPORTED_MEDIA_TYPE' },
  FST_ERR_CTP_INVALID_TYPE: { status: 415, code: 'UNSUPPORTED_MEDIA_TYPE' },
};

export interface ErrorBody {
  errors: ErrorDetail[];
}

/**
 * Fastify's `frameworkErrors` option: failures met while routing, before any handler or hook, which
 * setErrorHandler never sees. A path parameter too long to be any stream or contact id is an unknown one.
 */
export function answerFrameworkError(error: FastifyError, _request: FastifyRequest, reply: FastifyReply): void {
  if (error.code === 'FST_ERR_MAX_PARAM_LENGTH') {
    reply.code(404).send({ errors: [{ msg: 'No such stream or contact: a path segment is longer than any id', code: 'NOT_FOUND' }] });
    return;
  }
  reply.code(400).send({ errors: [{ msg: 'The request path is not a valid URL (bad percent-encoding)', code: 'INVALID_URL' }] });
}

/** Every failure leaves in the contract's `{"errors":[…]}` shape; a 5xx says nothing about internals. */
export function registerErrorHandling(app: FastifyInstance): void {
  app.setNotFoundHandler((request, reply) => {
    reply.code(404).send({ errors: [{ msg: `No route for ${request.method} ${request.url.split('?')[0]}`, code: 'ROUTE_NOT_FOUND' }] });
  });

  app.setErrorHandler((error: FastifyError, request, reply) => {
    if (error instanceof DomainError) {
      if (error instanceof RateLimitedError) reply.header('retry-after', String(error.retryAfterSeconds));
      if (error instanceof ServiceUnavailableError) reply.header('retry-after', '5');
      return reply.code(STATUS[error.kind]).send({ errors: error.details });
    }
    if (error.validation) {
      return reply.code(400).send({ errors: error.validation.map((v) => validationDetail(v, error.validationContext)) });
    }
    const known = error.code ? FASTIFY_CODES[error.code] : undefined;
    if (known) return reply.code(known.status).send({ errors: [{ msg: error.message, code: known.code }] });
    if (isStoreUnavailable(error)) {
      request.log.warn({ err: error }, 'store unavailable');
      reply.header('retry-after', '5');
      return reply.code(503).send({ errors: [{ msg: 'The store is not answering; try again shortly', code: 'STORE_UNAVAILABLE' }] });
    }
    const status = error.statusCode ?? 500;
    if (status >= 400 && status < 500) {
      return reply.code(status).send({ errors: [{ msg: error.message, code: 'BAD_REQUEST' }] });
    }
    request.log.error({ err: error }, 'request failed');
    return reply.code(500).send({ errors: [{ msg: 'Internal server error', code: 'INTERNAL' }] });
  });
}

interface AjvError {
  instancePath: string;
  message?: string;
  keyword: string;
  params: Record<string, unknown>;
}

/** `/0/cellPhone/phoneNumber` → index 0, field `cellPhone.phoneNumber`. */
function validationDetail(v: AjvError, context: string | undefined): ErrorDetail {
  const segments = v.instancePath.split('/').filter(Boolean);
  if (v.keyword === 'required' && typeof v.params.missingProperty === 'string') segments.push(v.params.missingProperty);
  let index: number | undefined;
  if (context === 'body' && segments.length > 0 && /^\d+$/.test(segments[0]!)) index = Number(segments.shift());
  const field = segments.join('.') || (context === 'body' ? undefined : context);
  const detail: ErrorDetail = { msg: `${field ?? context ?? 'request'} ${v.message ?? 'is not valid'}`, code: 'INVALID_FIELD' };
  if (field) detail.field = field;
  if (index !== undefined) detail.index = index;
  return detail;
}
