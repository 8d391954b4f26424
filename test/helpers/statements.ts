import type { CompiledQuery, Kysely } from 'kysely';

/**
 * A database that records every statement sent through it, with its values, as the store receives it. The search
 * repository's statements are prepared (src/db/prepared.ts) and sent through `executeQuery`, which is where they are
 * recorded; a query run with `.execute()` is not.
 */
export function recordingStatements<DB>(db: Kysely<DB>): { db: Kysely<DB>; executed: CompiledQuery[] } {
  const executed: CompiledQuery[] = [];
  const recording = new Proxy(db, {
    get(target, property) {
      if (property === 'executeQuery') {
        return async (compiled: CompiledQuery) => {
          executed.push(compiled);
          return target.executeQuery(compiled);
        };
      }
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  return { db: recording, executed };
}
