/** JSON schemas of the contacts routes; responses act as allow-lists of what leaves the service. */

const cellPhoneInput = {
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
    cellPhone: cellPhoneInput,
  },
} as const;

export const contactSchema = {
  $id: 'Contact',
  type: 'object',
  properties: {
    status: { type: 'string', enum: ['ACTIVE', 'INACTIVE'] },
    firstName: { type: 'string' },
    lastName: { type: 'string' },
    salutation: { type: 'string' },
    cellPhone: {
      type: 'object',
      properties: {
        phoneNumber: { type: 'string' },
        countryCode: { type: 'string' },
        extension: { type: 'string' },
      },
    },
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

export const streamParams = {
  type: 'object',
  properties: { streamId: { type: 'string' } },
  required: ['streamId'],
} as const;

export const contactParams = {
  type: 'object',
  properties: { streamId: { type: 'string' }, id: { type: 'string' } },
  required: ['streamId', 'id'],
} as const;

export const errorResponses = {
  400: { $ref: 'ErrorBody#' },
  401: { $ref: 'ErrorBody#' },
  403: { $ref: 'ErrorBody#' },
  404: { $ref: 'ErrorBody#' },
  409: { $ref: 'ErrorBody#' },
  413: { $ref: 'ErrorBody#' },
  415: { $ref: 'ErrorBody#' },
  429: { $ref: 'ErrorBody#' },
  503: { $ref: 'ErrorBody#' },
} as const;
