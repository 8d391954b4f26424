import type { WebhookEndpointRow } from '../db/schema.js';
import { WEBHOOK_EVENT_TYPES, type WebhookEventType } from './webhook-events.js';

/** The API's JSON for an endpoint. `secret` only in the answers that make one (create, rotate). */
export interface WebhookEndpoint {
  id: string;
  url: string;
  events: WebhookEventType[];
  description: string;
  disabled: boolean;
  disabledReason: string | null;
  createdAt: string;
  updatedAt: string;
  secret?: string;
}

export function toWebhookEndpoint(row: WebhookEndpointRow, withSecret = false): WebhookEndpoint {
  const endpoint: WebhookEndpoint = {
    id: row.id,
    url: row.url,
    events: row.events === '*' ? [...WEBHOOK_EVENT_TYPES] : (row.events.split(',').filter(Boolean) as WebhookEventType[]),
    description: row.description,
    disabled: Number(row.disabled) === 1,
    disabledReason: row.disabled_reason,
    createdAt: new Date(Number(row.created_at)).toISOString(),
    updatedAt: new Date(Number(row.updated_at)).toISOString(),
  };
  if (withSecret) endpoint.secret = row.secret;
  return endpoint;
}
