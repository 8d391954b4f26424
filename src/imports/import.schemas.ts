import { errorResponses } from '../http/schemas.js';

/** The report of an import (207, and 200/400/409 when asked for or when no row succeeded). */
export const importReportSchema = {
  $id: 'ImportReport',
  type: 'object',
  description: 'Every data row is counted once, in `successful` or in `failed`; rows are named by their line in the file (header = line 1).',
  properties: {
    totalRequested: { type: 'integer', description: 'Data rows in the file' },
    successful: { type: 'integer' },
    failed: { type: 'integer' },
    created: { type: 'integer' },
    updated: { type: 'integer', description: 'Contacts updated because of `onDuplicate=update`' },
    dryRun: { type: 'boolean' },
    csv: {
      type: 'object',
      description: 'How the file was read: `encoding` (from a BOM, a declared charset, else UTF-8 unless the bytes are not, then Windows-1252) and `delimiter` (from the header line)',
      properties: { encoding: { type: 'string', enum: ['utf-8', 'utf-16le', 'utf-16be', 'windows-1252'] }, delimiter: { type: 'string', enum: [',', ';', '\t', '|'] } },
    },
    successfulRecords: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          row: { type: 'integer' },
          action: { type: 'string', enum: ['created', 'updated'] },
          id: { type: 'string', description: 'The contact; absent in a dry run for a row that would create one' },
        },
        required: ['row', 'action'],
      },
    },
    failedRecords: {
      type: 'array',
      items: {
        type: 'object',
        properties: { row: { type: 'integer' }, errors: { $ref: 'ErrorBody#/properties/errors' } },
        required: ['row', 'errors'],
      },
    },
  },
  required: ['totalRequested', 'successful', 'failed', 'successfulRecords', 'failedRecords'],
} as const;

const CSV_SAMPLE =
  'firstName,lastName,salutation,cellPhoneNumber,cellPhoneCountryCode,cellPhoneExtension\nJohn,Doe,Mr,9876543210,+91,+\n';

/**
 * The upload and the answers of the import as the OpenAPI document shows them. The route reads the raw request
 * and streams its answer, so Fastify validates and serializes neither; these schemas only document them.
 */
export const importDocumentation = {
  body: {
    content: {
      'multipart/form-data': {
        schema: {
          type: 'object',
          properties: {
            result_file: {
              type: 'string',
              format: 'binary',
              contentMediaType: 'text/csv',
              description:
                'The CSV file (UTF-8, BOM optional, CRLF or LF). Any single file field is accepted; the seeds\' ' +
                '`content-type: application/json;charset=UTF-8` sent with curl `--form` works too.',
            },
          },
          required: ['result_file'],
        },
      },
      'text/csv': {
        schema: { type: 'string', description: 'The CSV file as the whole body', examples: [CSV_SAMPLE] },
      },
    },
  },
  response: {
    ...errorResponses,
    200: {
      description:
        'Every row succeeded: the contacts created or updated, in file order (the seeds\' shape); the report ' +
        'instead with `report=true` or `dryRun=true`',
      anyOf: [{ type: 'array', items: { $ref: 'Contact#' } }, { $ref: 'ImportReport#' }],
    },
    207: { description: 'Some rows succeeded and some failed: the report', $ref: 'ImportReport#' },
    400: {
      description:
        'No row succeeded and some failure is not a duplicate: the report. An upload refused as a whole (a missing ' +
        'column, a bad option) answers the error shape',
      anyOf: [{ $ref: 'ImportReport#' }, { $ref: 'ErrorBody#' }],
    },
    409: {
      description: 'No row succeeded and every failure is a number already taken (in the store or earlier in the file): the report',
      anyOf: [{ $ref: 'ImportReport#' }, { $ref: 'ErrorBody#' }],
    },
  },
} as const;

/** The options of an upload; the synchronous endpoint also takes `report`. */
export function importOptionsQuery(withReport: boolean) {
  return {
    type: 'object',
    properties: {
      onDuplicate: {
        type: 'string',
        enum: ['reject', 'update'],
        default: 'reject',
        description: '`update`: a number already held by an ACTIVE contact updates that contact instead of failing the row',
      },
      atomic: { type: 'boolean', default: false, description: 'Create nothing unless every row is good' },
      dryRun: { type: 'boolean', default: false, description: 'Check every row and report, but write nothing' },
      ...(withReport
        ? { report: { type: 'boolean', default: false, description: 'Answer the report shape even when every row succeeds' } }
        : {}),
    },
  } as const;
}

const nullableTime = { type: ['string', 'null'], format: 'date-time' } as const;

/** An import job (docs/imports.md). */
export const importJobSchema = {
  $id: 'ImportJob',
  type: 'object',
  properties: {
    id: { type: 'string' },
    state: { type: 'string', enum: ['queued', 'running', 'completed', 'failed', 'cancelled', 'reverted'] },
    options: {
      type: 'object',
      properties: { onDuplicate: { type: 'string' }, atomic: { type: 'boolean' }, dryRun: { type: 'boolean' } },
    },
    fileName: { type: ['string', 'null'] },
    bytes: { type: 'integer' },
    totalRows: { type: ['integer', 'null'], description: 'Data rows in the file' },
    csv: {
      type: 'object',
      description: 'How the file was read: `encoding` (from a BOM, a declared charset, else UTF-8 unless the bytes are not, then Windows-1252) and `delimiter` (from the header line)',
      properties: { encoding: { type: 'string', enum: ['utf-8', 'utf-16le', 'utf-16be', 'windows-1252'] }, delimiter: { type: 'string', enum: [',', ';', '\t', '|'] } },
    },
    processedRows: { type: 'integer', description: 'Only grows; created + updated + failed' },
    created: { type: 'integer' },
    updated: { type: 'integer' },
    failed: { type: 'integer' },
    createdAt: { type: 'string', format: 'date-time' },
    startedAt: nullableTime,
    finishedAt: nullableTime,
    createdBy: { type: 'string' },
    createdByAId: { type: 'string' },
    error: { type: 'object', properties: { msg: { type: 'string' }, code: { type: 'string' } } },
    revert: {
      type: 'object',
      description: 'What POST /contacts/imports/{id}/revert did (state `reverted`)',
      properties: {
        revertedAt: { type: 'string', format: 'date-time' },
        deactivated: { type: 'integer', description: 'Contacts the import created, made INACTIVE' },
        restored: { type: 'integer', description: 'Contacts the import updated, given their earlier values back' },
        skipped: { type: 'integer', description: 'Contacts changed since the import, left alone' },
        skippedIds: { type: 'array', items: { type: 'string' } },
      },
      required: ['revertedAt', 'deactivated', 'restored', 'skipped', 'skippedIds'],
    },
  },
  required: ['id', 'state', 'options', 'processedRows', 'created', 'updated', 'failed', 'createdAt'],
} as const;

export const importJobParams = {
  type: 'object',
  properties: { streamId: { type: 'string' }, id: { type: 'string' } },
  required: ['streamId', 'id'],
} as const;

export const pageQuery = {
  type: 'object',
  properties: {
    limit: { type: 'integer', minimum: 1, maximum: 100, default: 20 },
    cursor: { type: 'string', minLength: 1, maxLength: 200, description: 'nextCursor of the previous page' },
  },
} as const;
