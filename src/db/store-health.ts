import type { Store } from './database.js';

/**
 * Whether the store can serve, as readiness reports it. A store that answers reads may still refuse writes (a full
 * disk, a file made read-only): once a request met such a fault, readiness rewrites the probe row until a write
 * works again, so a load balancer takes the instance out meanwhile and puts it back after.
 */
export function createStoreHealth(store: Pick<Store, 'ping' | 'probeWrite'>) {
  let faulted = false;
  return {
    /** A request failed because the store could not be reached or written. */
    fault(): void {
      faulted = true;
    },
    /** Resolves when the store answers and, after a fault, takes a write again; throws otherwise. */
    async check(): Promise<void> {
      await store.ping();
      if (!faulted) return;
      await store.probeWrite();
      faulted = false;
    },
  };
}

export type StoreHealth = ReturnType<typeof createStoreHealth>;
