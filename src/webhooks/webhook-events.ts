/** The events an endpoint can subscribe to. An import sends its one event, never one per row. */
export const WEBHOOK_EVENT_TYPES = [
  'contact.created',
  'contact.updated',
  'contact.deleted',
  'contact.restored',
  'import.completed',
  'import.failed',
] as const;

export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

/** An event as a write hands it to the outbox, inside the write's transaction. */
export interface OutboxEvent {
  type: WebhookEventType;
  /** What it is about (a contact's or an import's id): an endpoint receives one subject's events in order. */
  subject: string;
  data: unknown;
}

/** The body every delivery of an event sends, byte for byte the same on every try. */
export function eventBody(type: WebhookEventType, at: number, data: unknown): string {
  return JSON.stringify({ type, timestamp: new Date(at).toISOString(), data });
}
