import type { DeliveryState } from '../db/schema.js';
import { NotFoundError, ValidationError } from '../shared/errors.js';
import { newObjectId, OBJECT_ID } from '../shared/ids.js';
import { decodePageCursor, encodePageCursor, isSeq } from '../shared/page-cursor.js';
import type { Tenant } from '../shared/request-context.js';
import type { DeliveryRepository } from './delivery.repository.js';
import { newWebhookSecret } from './signing.js';
import { targetProblem } from './target-guard.js';
import { storedEvents, type WebhookEndpointRepository } from './webhook-endpoint.repository.js';
import { toWebhookEndpoint, type WebhookEndpoint } from './webhook-endpoint.mapper.js';
import type { WebhookEventType } from './webhook-events.js';

export interface WebhookEndpointsDeps {
  endpoints: WebhookEndpointRepository;
  deliveries: DeliveryRepository;
  allowPrivateTargets: boolean;
  /** How long a rotated-out secret still signs beside the new one. */
  secretGraceMs: number;
  /** Told when deliveries were queued again, so that a worker here sends them without waiting for its poll. */
  queued?: () => void;
  now?: () => number;
}

export interface NewEndpoint {
  url: string;
  events?: WebhookEventType[];
  description?: string;
}

export interface EndpointChanges {
  url?: string;
  /** null: every event again. */
  events?: WebhookEventType[] | null;
  description?: string;
  disabled?: boolean;
}

export interface Page<T> {
  results: T[];
  hasMore: boolean;
  nextCursor: string | null;
}

export interface Delivery {
  id: string;
  type: string;
  state: DeliveryState;
  attempts: number;
  nextAttemptAt: string | null;
  lastStatus: number | null;
  lastError: string | null;
  createdAt: string;
  finishedAt: string | null;
  log: { attempt: number; at: string; status: number | null; latencyMs: number; error: string | null; instance: string | null }[];
}

const iso = (ms: number | null) => (ms === null ? null : new Date(Number(ms)).toISOString());
const EVENT_ID = /^msg_[0-9a-f]{24}$/;
const isEndpointPosition = (v: unknown): v is [number, string] =>
  Array.isArray(v) && v.length === 2 && Number.isSafeInteger(v[0]) && typeof v[1] === 'string' && OBJECT_ID.test(v[1]);

/** A stream's webhook endpoints (create, list, change, remove, rotate the secret) and their deliveries. */
export function createWebhookEndpoints(deps: WebhookEndpointsDeps) {
  const now = deps.now ?? Date.now;
  const { endpoints, deliveries } = deps;

  async function found(tenant: Tenant, id: string) {
    const row = OBJECT_ID.test(id) ? await endpoints.find(tenant, id) : undefined;
    if (!row) throw new NotFoundError({ msg: `Webhook endpoint ${id} was not found in this stream`, code: 'WEBHOOK_NOT_FOUND', id });
    return row;
  }

  async function checkUrl(url: string): Promise<void> {
    const problem = await targetProblem(url, deps.allowPrivateTargets);
    if (problem) throw new ValidationError({ msg: problem, code: 'INVALID_WEBHOOK_URL', field: 'url' });
  }

  async function foundDelivery(tenant: Tenant, endpointId: string, deliveryId: string) {
    const row = EVENT_ID.test(deliveryId) ? await deliveries.find(tenant, endpointId, deliveryId) : undefined;
    if (!row) throw new NotFoundError({ msg: `Delivery ${deliveryId} was not found for this endpoint`, code: 'DELIVERY_NOT_FOUND', id: deliveryId });
    return row;
  }

  async function withLog(endpointId: string, rows: Awaited<ReturnType<DeliveryRepository['page']>>): Promise<Delivery[]> {
    const log = await deliveries.attempts(endpointId, rows.map((r) => Number(r.event_seq)));
    return rows.map((r) => ({
      id: r.event_id,
      type: r.type,
      state: r.state,
      attempts: Number(r.attempts),
      nextAttemptAt: r.state === 'pending' ? iso(r.next_attempt_at) : null,
      lastStatus: r.last_status === null ? null : Number(r.last_status),
      lastError: r.last_error,
      createdAt: iso(r.created_at)!,
      finishedAt: iso(r.finished_at),
      log: log
        .filter((a) => Number(a.event_seq) === Number(r.event_seq))
        .map((a) => ({ attempt: Number(a.attempt), at: iso(a.at)!, status: a.status === null ? null : Number(a.status), latencyMs: Number(a.latency_ms), error: a.error, instance: a.instance })),
    }));
  }

  return {
    async create(tenant: Tenant, input: NewEndpoint): Promise<WebhookEndpoint> {
      await checkUrl(input.url);
      const t = now();
      const row = {
        id: newObjectId(t),
        stream_id: tenant.streamId,
        account_id: tenant.accountId,
        url: input.url,
        events: storedEvents(input.events),
        description: input.description ?? '',
        secret: newWebhookSecret(),
        previous_secret: null,
        previous_secret_until: null,
        disabled: 0,
        disabled_reason: null,
        created_at: t,
        updated_at: t,
      };
      await endpoints.insert(row);
      return toWebhookEndpoint(row, true);
    },

    async get(tenant: Tenant, id: string): Promise<WebhookEndpoint> {
      return toWebhookEndpoint(await found(tenant, id));
    },

    async list(tenant: Tenant, cursor: string | undefined, limit: number): Promise<Page<WebhookEndpoint>> {
      const after = cursor === undefined ? undefined : decodePageCursor(cursor, isEndpointPosition);
      const rows = await endpoints.page(tenant, after && { createdAt: after[0], id: after[1] }, limit + 1);
      const page = rows.slice(0, limit);
      const last = page[page.length - 1];
      return {
        results: page.map((r) => toWebhookEndpoint(r)),
        hasMore: rows.length > limit,
        nextCursor: rows.length > limit && last ? encodePageCursor([Number(last.created_at), last.id]) : null,
      };
    },

    async update(tenant: Tenant, id: string, changes: EndpointChanges): Promise<WebhookEndpoint> {
      await found(tenant, id);
      if (changes.url !== undefined) await checkUrl(changes.url);
      const row = await endpoints.update(tenant, id, {
        ...(changes.url !== undefined && { url: changes.url }),
        ...(changes.events !== undefined && { events: storedEvents(changes.events ?? undefined) }),
        ...(changes.description !== undefined && { description: changes.description }),
        ...(changes.disabled !== undefined && { disabled: changes.disabled ? 1 : 0, disabled_reason: changes.disabled ? 'Disabled by a user' : null }),
        updated_at: now(),
      });
      if (!row) throw new NotFoundError({ msg: `Webhook endpoint ${id} was not found in this stream`, code: 'WEBHOOK_NOT_FOUND', id });
      if (changes.disabled === false) deps.queued?.();
      return toWebhookEndpoint(row);
    },

    async remove(tenant: Tenant, id: string): Promise<WebhookEndpoint> {
      const row = await found(tenant, id);
      await endpoints.remove(tenant, id);
      return toWebhookEndpoint(row);
    },

    /** A new secret signs from now on; the old one signs beside it for the grace period, so receivers can switch. */
    async rotateSecret(tenant: Tenant, id: string): Promise<WebhookEndpoint & { secret: string; previousSecretExpiresAt: string }> {
      const current = await found(tenant, id);
      const t = now();
      const until = t + deps.secretGraceMs;
      const row = await endpoints.update(tenant, id, { secret: newWebhookSecret(), previous_secret: current.secret, previous_secret_until: until, updated_at: t });
      if (!row) throw new NotFoundError({ msg: `Webhook endpoint ${id} was not found in this stream`, code: 'WEBHOOK_NOT_FOUND', id });
      return { ...toWebhookEndpoint(row, true), secret: row.secret, previousSecretExpiresAt: iso(until)! };
    },

    async deliveries(tenant: Tenant, id: string, cursor: string | undefined, limit: number, state?: DeliveryState): Promise<Page<Delivery>> {
      await found(tenant, id);
      const before = cursor === undefined ? undefined : decodePageCursor(cursor, isSeq);
      const rows = await deliveries.page(tenant, id, before, limit + 1, state);
      const page = rows.slice(0, limit);
      return {
        results: await withLog(id, page),
        hasMore: rows.length > limit,
        nextCursor: rows.length > limit ? encodePageCursor(Number(page[page.length - 1]!.event_seq)) : null,
      };
    },

    /** Sends one event to the endpoint again, from the start of the retry schedule, with the same webhook-id. */
    async replay(tenant: Tenant, id: string, deliveryId: string): Promise<Delivery> {
      await found(tenant, id);
      const delivery = await foundDelivery(tenant, id, deliveryId);
      await deliveries.replay(tenant, id, Number(delivery.event_seq), now());
      deps.queued?.();
      const [again] = await withLog(id, [await foundDelivery(tenant, id, deliveryId)]);
      return again!;
    },

    /** Sends every failed delivery of the endpoint again. */
    async replayFailed(tenant: Tenant, id: string): Promise<{ replayed: number }> {
      await found(tenant, id);
      const replayed = await deliveries.replay(tenant, id, undefined, now());
      deps.queued?.();
      return { replayed };
    },
  };
}

export type WebhookEndpoints = ReturnType<typeof createWebhookEndpoints>;
