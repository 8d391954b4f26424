import type { Config } from '../config/config.js';
import type { Store } from '../db/database.js';
import { createDeliveryRepository } from './delivery.repository.js';
import { createDeliveryWorker, type DeliveryWorkerDeps } from './delivery-worker.js';
import { createHttpSender } from './http-sender.js';
import { createWebhookEndpointRepository } from './webhook-endpoint.repository.js';
import { createWebhookEndpoints } from './webhook-endpoint.service.js';

export type WebhooksConfig = Pick<
  Config,
  'instanceId' | 'webhookWorkers' | 'webhookRetentionDays' | 'webhookTimeoutMs' | 'webhookPollMs' | 'webhookRetrySchedule' | 'webhookAllowPrivateTargets' | 'webhookSecretGraceSeconds'
>;

/** Webhooks wired for one store: the endpoints' service and the delivery worker. */
export function createWebhooks(deps: { store: Store; config: WebhooksConfig; log: DeliveryWorkerDeps['log']; now?: () => number }) {
  const { store, config } = deps;
  const now = deps.now ?? Date.now;
  const endpoints = createWebhookEndpointRepository(store.db);
  const deliveries = createDeliveryRepository(store.db, store.dialect);
  const worker = createDeliveryWorker({
    deliveries,
    endpoints,
    instance: config.instanceId,
    send: createHttpSender({ timeoutMs: config.webhookTimeoutMs, allowPrivate: config.webhookAllowPrivateTargets }),
    concurrency: config.webhookWorkers,
    schedule: config.webhookRetrySchedule,
    timeoutMs: config.webhookTimeoutMs,
    pollMs: config.webhookPollMs,
    retentionMs: config.webhookRetentionDays * 86_400_000,
    now,
    log: deps.log,
  });
  const service = createWebhookEndpoints({
    endpoints,
    deliveries,
    allowPrivateTargets: config.webhookAllowPrivateTargets,
    secretGraceMs: config.webhookSecretGraceSeconds * 1000,
    queued: () => worker.kick(),
    now,
  });
  return { endpoints: service, worker };
}

export type Webhooks = ReturnType<typeof createWebhooks>;
