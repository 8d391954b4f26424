import type { FromSchema } from 'json-schema-to-ts';
import { errorDetailSchema } from '../http/schemas.js';

/**
 * JSON schemas of the contacts routes; responses act as allow-lists of what leaves the service. The routes' types
 * are derived from them (`FromSchema`), and each enum is built from one list, so a schema and its type cannot drift.
 */

export const CONTACT_STATUSES = ['ACTIVE', 'INACTIVE'] as const;
/** `status` of a search: one status, or both. */
export const STATUS_FILTERS = [...CONTACT_STATUSES, 'all'] as const;
/** `sort` of a search: a field, `-` first for descending. */
export const SORT_PARAMS = ['createdAt', '-createdAt', 'updatedAt', '-updatedAt', 'lastName', '-lastName'] as const;

// The same three strings in and out; on the way out, `phoneNumber` is E.164.
const cellPhone = {
  type: 'object',
  properties: {
    phoneNumber: { type: 'string' },
    countryCode: { type: 'string' },
    extension: { type: 'string' },
  },
} as const;

export const contactInputSchema = {
  $id: 'ContactInput',
  type: 'object',
  description: 'Every field is required on create; on update, fields present replace and fields absent are kept.',
  properties: {
    firstName: { type: 'string' },
    lastName: { type: 'string' },
    salutation: { type: 'string' },
    cellPhone,
  },
} as const;

export const contactSchema = {
  $id: 'Contact',
  type: 'object',
  properties: {
    status: { type: 'string', enum: CONTACT_STATUSES },
    firstName: { type: 'string' },
    lastName: { type: 'string' },
    salutation: { type: 'string' },
    cellPhone,
    createdBy: { type: 'string' },
    createdByAId: { type: 'string' },
    orgId: { type: 'string' },
    accountId: { type: 'string' },
    instanceBotId: { type: 'string' },
    fullName: { type: 'string' },
    address: { type: 'array', items: {} },
    twitterDetails: { type: 'array', items: {} },
    createdAt: { type: 'string', format: 'date-time' },
    updatedAt: { type: 'string', format: 'date-time' },
    updatedBy: { type: 'string' },
    updatedByAId: { type: 'string' },
    id: { type: 'string' },
  },
} as const;

export const contactParams = {
  type: 'object',
  properties: { streamId: { type: 'string' }, id: { type: 'string' } },
  required: ['streamId', 'id'],
} as const;

/** A search's filters and sort: shared by GET /contacts and GET /contacts/export. */
const searchProperties = {
  q: { type: 'string', maxLength: 256, description: 'Name prefix: first, last or full name; letter case and accents ignored' },
  phoneNumber: { type: 'string', maxLength: 64, description: 'Normalised like input; without countryCode, read as international (+919876543210 or 919876543210)' },
  countryCode: { type: 'string', maxLength: 8, description: 'Country calling code for a national phoneNumber, e.g. +91' },
  status: { type: 'string', enum: STATUS_FILTERS, default: 'ACTIVE' },
  sort: { type: 'string', enum: SORT_PARAMS, default: 'createdAt', description: '`-` for descending; ties broken by id' },
} as const;

export const searchQuerySchema = { type: 'object', properties: searchProperties } as const;

/** A search and the page of it wanted: GET /contacts. */
export const searchPageQuerySchema = {
  type: 'object',
  properties: {
    ...searchProperties,
    // Bounded so that it stays a whole number the stores take as LIMIT/OFFSET (1e300 is an "integer" to JSON Schema).
    skip: { type: 'integer', minimum: 0, maximum: 1_000_000_000, default: 0, description: 'Contacts to pass over, at most 10,000 (deeper: follow nextCursor); not with after' },
    limit: { type: 'integer', minimum: 1, maximum: 100, default: 10 },
    after: { type: 'string', maxLength: 1024, description: 'nextCursor of the previous page' },
  },
} as const;

export const contactPageSchema = {
  type: 'object',
  properties: {
    results: { type: 'array', items: { $ref: 'Contact#' } },
    skip: { type: 'integer' },
    limit: { type: 'integer' },
    hasMore: { type: 'boolean' },
    totalPages: { type: 'integer' },
    totalResults: { type: 'integer' },
    totalResultsExact: { type: 'boolean', description: 'Present (false) when totalResults is a lower bound: a name search matching more contacts than it counts' },
    nextCursor: { type: 'string' },
  },
} as const;

function bulkReportSchema(successfulRecord: object) {
  return {
    type: 'object',
    properties: {
      totalRequested: { type: 'integer' },
      successful: { type: 'integer' },
      failed: { type: 'integer' },
      successfulRecords: { type: 'array', items: successfulRecord },
      failedRecords: {
        type: 'array',
        items: { type: 'object', properties: { id: { type: 'string' }, index: { type: 'integer' }, errors: { type: 'array', items: errorDetailSchema } } },
      },
    },
  } as const;
}

export const bulkDeleteBodySchema = {
  type: 'object',
  properties: { ids: { type: 'array', items: { type: 'string' } } },
  required: ['ids'],
} as const;

export const bulkDeleteReportSchema = bulkReportSchema({ type: 'object', properties: { id: { type: 'string' } } });

export const bulkUpdateItemSchema = {
  type: 'object',
  description: 'A contact to update, named by id; fields present replace and fields absent are kept.',
  properties: { id: { type: 'string' }, ...contactInputSchema.properties },
} as const;

const { $id: _contactId, ...contactShape } = contactSchema;

export const bulkUpdateReportSchema = bulkReportSchema({
  type: 'object',
  properties: {
    id: { type: 'string' },
    contact: { ...contactShape, properties: { _id: { type: 'string' }, ...contactShape.properties } },
  },
});

/** Defaults the schema fills in stay optional in the types: a caller other than HTTP (the CLI, a job) may leave them. */
type Derived<S> = FromSchema<S & object, { keepDefaultedPropertiesOptional: true }>;

export type ContactParams = Derived<typeof contactParams>;
/** The query of GET /contacts/export: a search's filters and sort. */
export type SearchQuery = Derived<typeof searchQuerySchema>;
/** The query of GET /contacts: a search and which page of it. */
export type SearchPageQuery = Derived<typeof searchPageQuerySchema>;
export type BulkDeleteBody = Derived<typeof bulkDeleteBodySchema>;
