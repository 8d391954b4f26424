import type { Command } from 'commander';
import type { Config } from '../config/config.js';
import type { Tenant } from '../shared/request-context.js';
import type { WebhookEndpoints } from '../webhooks/webhook-endpoint.service.js';
import { WEBHOOK_EVENT_TYPES, type WebhookEventType } from '../webhooks/webhook-events.js';
import { UsageError } from './errors.js';
import { print, printList } from './output.js';

/** The endpoints' service over the store, for the stream `--stream` names (its account looked up). */
async function withEndpoints<T>(config: Config, streamId: string, fn: (webhooks: WebhookEndpoints, tenant: Tenant) => Promise<T>): Promise<T> {
  // Loaded when a webhooks command runs: every other command starts without them.
  const [{ openStore }, { migrateToLatest }, { createTenancyService }, { createDeliveryRepository }, { createWebhookEndpointRepository }, { createWebhookEndpoints }] = await Promise.all([
    import('../db/database.js'),
    import('../db/migrate.js'),
    import('../tenancy/tenancy.service.js'),
    import('../webhooks/delivery.repository.js'),
    import('../webhooks/webhook-endpoint.repository.js'),
    import('../webhooks/webhook-endpoint.service.js'),
  ]);
  const store = openStore(config.database, { poolSize: 2 });
  try {
    await migrateToLatest(store.db);
    const stream = await createTenancyService({ db: store.db }).findStream(streamId);
    const webhooks = createWebhookEndpoints({
      endpoints: createWebhookEndpointRepository(store.db),
      deliveries: createDeliveryRepository(store.db, store.dialect),
      allowPrivateTargets: config.webhookAllowPrivateTargets,
      secretGraceMs: config.webhookSecretGraceSeconds * 1000,
    });
    return await fn(webhooks, { streamId: stream.streamId, accountId: stream.accountId });
  } finally {
    await store.close();
  }
}

/** An endpoint (or what a command answers of it): `key: value` lines, or with --json one JSON object as the API answers. */
const out = (value: object, json: boolean | undefined) => print({ ...value }, json);

function eventsOf(list: string[] | undefined): WebhookEventType[] | undefined {
  if (!list || list.length === 0) return undefined;
  const unknown = list.filter((e) => !(WEBHOOK_EVENT_TYPES as readonly string[]).includes(e));
  if (unknown.length) throw new UsageError(`unknown event ${unknown.join(', ')}; choose from ${WEBHOOK_EVENT_TYPES.join(', ')}`);
  return list as WebhookEventType[];
}

/** `dialbook webhooks create|list|delete|rotate-secret`: the stream's endpoints, as the API manages them (docs/webhooks.md). */
export function registerWebhookCommands(program: Command, config: () => Config): void {
  const webhooks = program.command('webhooks').description("a stream's webhook endpoints (docs/webhooks.md); with --json each prints JSON as the API answers");
  const collect = (value: string, previous: string[] = []) => [...previous, value];

  webhooks
    .command('create')
    .description('add an endpoint; prints it with its whsec_ secret, shown only this once')
    .requiredOption('--stream <id>', 'the stream (st-…) whose events it receives')
    .requiredOption('--url <url>', 'where deliveries are POSTed')
    .option('--event <type>', `an event type to send (repeat it; every type when absent): ${WEBHOOK_EVENT_TYPES.join(', ')}`, collect)
    .option('--description <text>', 'what the endpoint is for')
    .option('--json', 'print the endpoint as one JSON object')
    .action(async (opts: { stream: string; url: string; event?: string[]; description?: string; json?: boolean }) => {
      out(await withEndpoints(config(), opts.stream, (w, tenant) => w.create(tenant, { url: opts.url, events: eventsOf(opts.event), description: opts.description })), opts.json);
    });

  webhooks
    .command('list')
    .description("the stream's endpoints (never their secrets)")
    .requiredOption('--stream <id>', 'the stream (st-…)')
    .option('--json', 'print {results, hasMore, nextCursor} as the API answers')
    .action(async (opts: { stream: string; json?: boolean }) => {
      const page = await withEndpoints(config(), opts.stream, (w, tenant) => w.list(tenant, undefined, 100));
      if (opts.json) process.stdout.write(`${JSON.stringify(page)}\n`);
      else printList(page.results, false, (e) => [e.id, e.url, e.events.join(','), e.disabled ? 'disabled' : 'active', e.description ?? '']);
    });

  webhooks
    .command('delete')
    .description('remove an endpoint with its deliveries')
    .requiredOption('--stream <id>', 'the stream (st-…)')
    .argument('<id>', 'the endpoint')
    .option('--json', 'print the answer as one JSON object')
    .action(async (id: string, opts: { stream: string; json?: boolean }) => {
      out(await withEndpoints(config(), opts.stream, (w, tenant) => w.remove(tenant, id)), opts.json);
    });

  webhooks
    .command('rotate-secret')
    .description('a new signing secret; the old one signs beside it for WEBHOOK_SECRET_GRACE_SECONDS')
    .requiredOption('--stream <id>', 'the stream (st-…)')
    .argument('<id>', 'the endpoint')
    .option('--json', 'print the answer as one JSON object')
    .action(async (id: string, opts: { stream: string; json?: boolean }) => {
      out(await withEndpoints(config(), opts.stream, (w, tenant) => w.rotateSecret(tenant, id)), opts.json);
    });
}
