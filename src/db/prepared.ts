import type { Compilable, CompiledQuery, Kysely } from 'kysely';

const SLOT = Symbol('slot');

interface Slot {
  readonly [SLOT]: string;
}

const isSlot = (value: unknown): value is Slot => typeof value === 'object' && value !== null && SLOT in value;

/** Names a value of a prepared query: in the built query it stands where the value will go. */
export type SlotOf<Args> = <K extends keyof Args & string>(name: K) => Args[K];

/**
 * A query built and compiled once per database, then run with new values: for the reads every request makes, where
 * building and compiling the query with Kysely costs more than SQLite takes to answer it. `build` writes the query
 * as usual, with `slot('name')` where each value goes; the compiled SQL is the same text every time, so the store's
 * statement cache (SQLite) holds it prepared. Not for `in (…)` lists, whose SQL varies with their length.
 */
export function preparedQuery<DB, Args extends object, Row>(
  build: (db: Kysely<DB>, slot: SlotOf<Args>) => Compilable<Row>,
): (db: Kysely<DB>, args: Args) => Promise<Row[]> {
  const compiledFor = new WeakMap<object, { compiled: CompiledQuery<Row>; names: ((keyof Args & string) | undefined)[] }>();
  const slot = ((name: string) => ({ [SLOT]: name })) as SlotOf<Args>;
  return async (db, args) => {
    // Keyed by the dialect's adapter, which a database shares with its transactions: compiled once per store.
    const key = db.getExecutor().adapter;
    let entry = compiledFor.get(key);
    if (!entry) {
      const compiled = build(db, slot).compile();
      const names = compiled.parameters.map((p) => (isSlot(p) ? (p[SLOT] as keyof Args & string) : undefined));
      entry = { compiled, names };
      compiledFor.set(key, entry);
    }
    const { compiled, names } = entry;
    const parameters = names.map((name, i) => (name === undefined ? compiled.parameters[i] : args[name]));
    const { rows } = await db.executeQuery<Row>({ ...compiled, parameters });
    return rows;
  };
}
