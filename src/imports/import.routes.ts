import type { FastifyPluginAsync } from 'fastify';
import { errorResponses, streamParams } from '../contacts/contact.schemas.js';
import { sendAnswer } from '../idempotency/idempotency.hooks.js';
import type { IdempotentUpload } from '../idempotency/idempotent-upload.js';
import { importAnswer } from './import.answer.js';
import { importDocumentation, importReportSchema } from './import.schemas.js';
import type { ImportService } from './import.service.js';
import { uploadedFile } from './upload.js';
import { fileTooLarge } from './text-decoding.js';

interface ImportQuery {
  onDuplicate: 'reject' | 'update';
  atomic: boolean;
  dryRun: boolean;
  report: boolean;
}

// Room for multipart boundaries and part headers around a file of the largest size allowed.
const MULTIPART_OVERHEAD = 64 * 1024;

/** POST /contacts/import-contacts: the upload is read as a stream, never parsed by Fastify. */
export function importRoutes(deps: { imports: Pick<ImportService, 'importCsv'>; maxBytes: number; runOnce: IdempotentUpload }): FastifyPluginAsync {
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
          '409 when every failure is a duplicate. Over the byte or row limit: 413; not text: 415.',
        params: streamParams,
        querystring: {
          type: 'object',
          properties: {
            onDuplicate: {
              type: 'string',
              enum: ['reject', 'update'],
              default: 'reject',
              description: '`update`: a number already held by an ACTIVE contact updates that contact instead of failing the row',
            },
            atomic: { type: 'boolean', default: false, description: 'Create nothing unless every row is good' },
            dryRun: { type: 'boolean', default: false, description: 'Check every row and answer the report, but write nothing' },
            report: { type: 'boolean', default: false, description: 'Answer the report shape even when every row succeeds' },
          },
        },
        response: errorResponses,
      },
      config: {
        // Only the OpenAPI document sees this: the upload is read from the raw request and the answer streamed.
        swaggerTransform: ({ schema, url }) => ({ url, schema: { ...schema, ...importDocumentation } }),
        // The body is the upload: its Idempotency-Key is claimed in the handler, where the file can be hashed.
        idempotency: 'upload',
      },
      handler: async (request, reply) => {
        const length = Number(request.headers['content-length']);
        if (length > deps.maxBytes + MULTIPART_OVERHEAD) throw fileTooLarge(deps.maxBytes);
        const { onDuplicate, atomic, dryRun, report } = request.query;
        const upload = uploadedFile(request.headers['content-type'], request.raw);
        const answer = await deps.runOnce(request, upload, async (file) => {
          const outcome = await deps.imports.importCsv(request.ctx, file, { onDuplicate, atomic, dryRun });
          return { ...importAnswer(outcome, report), contentType: 'application/json; charset=utf-8' };
        });
        return sendAnswer(reply, answer);
      },
    });
  };
}
