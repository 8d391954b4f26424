import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { errorResponses, streamParams } from '../http/schemas.js';
import { sendAnswer } from '../idempotency/idempotency.hooks.js';
import type { Answer } from '../idempotency/idempotency.service.js';
import type { IdempotentUpload } from '../idempotency/idempotent-upload.js';
import { importAnswer } from './import.answer.js';
import { importDocumentation, importOptionsQuery, importReportSchema } from './import.schemas.js';
import type { ImportOptions } from './import-engine.js';
import type { ImportJobs } from './import-jobs.service.js';
import type { ImportOutcome } from './sync-import.js';
import { uploadedFile } from './upload.js';
import { fileTooLarge } from './text-decoding.js';

interface ImportQuery extends ImportOptions {
  report: boolean;
}

type UploadRequest = FastifyRequest<{ Params: { streamId: string }; Querystring: ImportQuery }>;

export interface ImportRoutesDeps {
  importCsv: (ctx: UploadRequest['ctx'], upload: AsyncIterable<Buffer>, options: ImportOptions) => Promise<ImportOutcome>;
  jobs: Pick<ImportJobs, 'submit'>;
  maxBytes: number;
  runOnce: IdempotentUpload;
}

// Room for multipart boundaries and part headers around a file of the largest size allowed.
const MULTIPART_OVERHEAD = 64 * 1024;
const JSON_TYPE = 'application/json; charset=utf-8';

/** RFC 7240: `Prefer: respond-async` (among other preferences) asks for a job instead of the finished answer. */
function prefersAsync(request: FastifyRequest): boolean {
  const prefer = request.headers.prefer;
  const values = Array.isArray(prefer) ? prefer : prefer ? [prefer] : [];
  return values.some((v) => v.split(',').some((p) => p.split(';')[0]!.trim().toLowerCase() === 'respond-async'));
}

/**
 * The two upload routes: POST /contacts/import-contacts (the seeds' synchronous answer, or a job when the caller
 * prefers respond-async) and POST /contacts/imports (always a job). The upload is read as a stream, never parsed
 * by Fastify.
 */
export function importRoutes(deps: ImportRoutesDeps): FastifyPluginAsync {
  const upload = (request: UploadRequest, onFileName?: (name: string | undefined) => void) => {
    const length = Number(request.headers['content-length']);
    if (length > deps.maxBytes + MULTIPART_OVERHEAD) throw fileTooLarge(deps.maxBytes);
    return uploadedFile(request.headers['content-type'], request.raw, onFileName);
  };

  async function submitJob(request: UploadRequest, reply: FastifyReply) {
    let fileName: string | null = null;
    const file = upload(request, (name) => (fileName = name ?? null));
    const { onDuplicate, atomic, dryRun } = request.query;
    const answer = await deps.runOnce(request, file, async (bytes) => {
      const job = await deps.jobs.submit(request.ctx, bytes, { onDuplicate, atomic, dryRun }, () => fileName);
      return { status: 202, contentType: JSON_TYPE, body: Buffer.from(JSON.stringify(job)) };
    });
    // The job's JSON is small: read whole (also when replayed from the store) to name the job in Location.
    const body = await bufferOf(answer);
    if (answer.status === 202) {
      const { id } = JSON.parse(body.toString('utf8')) as { id: string };
      reply.header('location', `${request.url.split('?')[0]!.replace(/\/import-contacts$/, '/imports').replace(/\/$/, '')}/${id}`);
    }
    return sendAnswer(reply, { ...answer, body });
  }

  return async (app) => {
    app.removeAllContentTypeParsers();
    app.addContentTypeParser('*', (_request, _payload, done) => done(null, undefined));
    app.addSchema(importReportSchema);

    app.post<{ Params: { streamId: string }; Querystring: ImportQuery }>('/contacts/import-contacts', {
      schema: {
        tags: ['import'],
        summary: 'Import contacts from a CSV file',
        description:
          'Columns (header row, any order and letter case): `firstName`, `lastName`, `salutation`, `cellPhoneNumber`, ' +
          '`cellPhoneCountryCode`, `cellPhoneExtension`; other columns are ignored. Each row is checked as a JSON ' +
          'contact is. All rows succeed: 200 and the contacts; some fail: 207 and the report; none succeeds: 400, or ' +
          '409 when every failure is a duplicate. Over the byte or row limit: 413; not text: 415. With the header ' +
          '`Prefer: respond-async`: 202 and an import job instead (see POST /contacts/imports).',
        params: streamParams,
        querystring: importOptionsQuery(true),
        response: errorResponses,
      },
      config: {
        // Only the OpenAPI document sees this: the upload is read from the raw request and the answer streamed.
        swaggerTransform: ({ schema, url }) => ({ url, schema: { ...schema, ...importDocumentation } }),
        // The body is the upload: its Idempotency-Key is claimed in the handler, where the file can be hashed.
        idempotency: 'upload',
      },
      handler: async (request, reply) => {
        if (prefersAsync(request)) {
          reply.header('preference-applied', 'respond-async');
          return submitJob(request, reply);
        }
        const { onDuplicate, atomic, dryRun, report } = request.query;
        const answer = await deps.runOnce(request, upload(request), async (file) => {
          const outcome = await deps.importCsv(request.ctx, file, { onDuplicate, atomic, dryRun });
          return { ...importAnswer(outcome, report), contentType: JSON_TYPE };
        });
        return sendAnswer(reply, answer);
      },
    });

    app.post<{ Params: { streamId: string }; Querystring: ImportQuery }>('/contacts/imports', {
      schema: {
        tags: ['import'],
        summary: 'Start an import job from a CSV file',
        description:
          'The same upload and options as POST /contacts/import-contacts. Answers 202 once the file is durably kept, ' +
          'with the job and a Location header; follow it with GET /contacts/imports/{id}. A file refused as a whole ' +
          '(not text, too large, a missing column) is refused here and creates no job.',
        params: streamParams,
        querystring: importOptionsQuery(false),
        response: { ...errorResponses, 202: { $ref: 'ImportJob#' } },
      },
      config: {
        swaggerTransform: ({ schema, url }) => ({ url, schema: { ...schema, body: importDocumentation.body } }),
        idempotency: 'upload',
      },
      handler: (request, reply) => submitJob(request, reply),
    });
  };
}

async function bufferOf(answer: Answer): Promise<Buffer> {
  if (Buffer.isBuffer(answer.body)) return answer.body;
  const parts: Buffer[] = [];
  for await (const part of answer.body) parts.push(Buffer.isBuffer(part) ? part : Buffer.from(part));
  return Buffer.concat(parts);
}

