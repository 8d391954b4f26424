import type { AppRecord, TenancyRepository } from '../tenancy/tenancy.repository.js';

/** An app with the streams it may reach, as read from the store at one tenancy version. */
export interface CachedApp extends AppRecord {
  streamIds: ReadonlySet<string>;
}

export interface AppLookup {
  /** The store's tenancy version this answer is current for. */
  version: number;
  app: CachedApp | undefined;
}

export interface AppCacheDeps {
  tenancy: Pick<TenancyRepository, 'tenancyVersion' | 'findAppByClientId' | 'listAppStreamIds'>;
  /** Apps kept; past it the cache starts over (a bound, not an eviction policy: apps are few). */
  maxApps?: number;
}

/**
 * Apps in memory, each tagged with the tenancy version it was read at. Every lookup reads the version first (one
 * row by primary key) and reuses the app only when the version has not moved since; any change to accounts,
 * streams, apps or app_streams, by any writer on any instance, moves it in the writer's own transaction
 * (migration 0006). So a rotated secret, a changed scope, a removed stream or a deleted app count from the next
 * request on, on every instance, and an unchanged app costs one small read instead of two joins.
 */
export function createAppCache(deps: AppCacheDeps) {
  const maxApps = deps.maxApps ?? 10_000;
  const apps = new Map<string, { version: number; app: CachedApp }>();

  return {
    async find(clientId: string): Promise<AppLookup> {
      // Read before the app: a change between the two leaves a newer app under an older version, which the next
      // lookup then reads again, never the reverse.
      const version = await deps.tenancy.tenancyVersion();
      const hit = apps.get(clientId);
      if (hit && hit.version === version) return hit;
      const record = await deps.tenancy.findAppByClientId(clientId);
      if (!record) {
        apps.delete(clientId);
        return { version, app: undefined };
      }
      const app: CachedApp = { ...record, streamIds: new Set(await deps.tenancy.listAppStreamIds(record.accountId, record.id)) };
      if (apps.size >= maxApps) apps.clear();
      apps.set(clientId, { version, app });
      return { version, app };
    },
  };
}

export type AppCache = ReturnType<typeof createAppCache>;
