import { Readable } from 'node:stream';
import type { FastifyPluginAsync } from 'fastify';
import { errorResponses, streamParams } from '../contacts/contact.schemas.js';
import { importAnswer } from './import.answer.js';
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
export function importRoutes(deps: { imports: Pick<ImportService, 'importCsv'>; maxBytes: number }): FastifyPluginAsync {
  return async (app) => {
    app.removeAllContentTypeParsers();
    app.addContentTypeParser('*', (_request, _payload, done) => done(null, undefined));

    app.post<{ Params: { streamId: string }; Querystring: ImportQuery }>('/contacts/import-contacts', {
      schema: {
        params: streamParams,
        querystring: {
          type: 'object',
          properties: {
            onDuplicate: { type: 'string', enum: ['reject', 'update'], default: 'reject' },
            atomic: { type: 'boolean', default: false },
            dryRun: { type: 'boolean', default: false },
            report: { type: 'boolean', default: false },
          },
        },
        response: errorResponses,
      },
      handler: async (request, reply) => {
        const length = Number(request.headers['content-length']);
        if (length > deps.maxBytes + MULTIPART_OVERHEAD) throw fileTooLarge(deps.maxBytes);
        const { onDuplicate, atomic, dryRun, report } = request.query;
        const upload = uploadedFile(request.headers['content-type'], request.raw);
        const outcome = await deps.imports.importCsv(request.ctx, upload, { onDuplicate, atomic, dryRun });
        const answer = importAnswer(outcome, report);
        return reply.code(answer.status).type('application/json; charset=utf-8').send(Readable.from(answer.body));
      },
    });
  };
}
