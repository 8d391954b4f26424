/** A unique index refused the write (SQLite's SQLITE_CONSTRAINT_UNIQUE, PostgreSQL's 23505). */
export function isUniqueViolation(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || code === '23505';
}

const UNAVAILABLE_CODES = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EHOSTUNREACH',
  '57P01', // admin_shutdown
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now
  '53300', // too_many_connections
  '08000', '08003', '08006', '08001', '08004', // connection exceptions
  'SQLITE_BUSY', 'SQLITE_LOCKED',
  // The store answers but cannot keep a write: a full disk, a read-only file or folder, an I/O error.
  'SQLITE_FULL', 'SQLITE_CANTOPEN', 'ENOSPC', 'EROFS', 'EDQUOT', 'EIO',
  '53100', // disk_full
  '58030', // io_error
  '25006', // read_only_sql_transaction
]);

/** Codes of a store that cannot be written, whatever their variant (SQLITE_READONLY_DIRECTORY, SQLITE_IOERR_WRITE). */
const WRITE_FAULT_PREFIXES = ['SQLITE_READONLY', 'SQLITE_IOERR', 'SQLITE_FULL', 'SQLITE_CANTOPEN'];

/** The store could not be reached or is shutting down: the caller may retry later. */
export function isStoreUnavailable(error: unknown): boolean {
  const e = error as { code?: unknown; message?: unknown } | null;
  if (typeof e?.code === 'string' && (UNAVAILABLE_CODES.has(e.code) || WRITE_FAULT_PREFIXES.some((p) => (e.code as string).startsWith(p)))) return true;
  const message = typeof e?.message === 'string' ? e.message : '';
  // pg's own errors carry no code. Seen when a server stops: "Connection terminated unexpectedly" (a query under
  // way), "Client has encountered a connection error and is not queryable" (a client held in a transaction
  // when its connection dropped); "Client was closed and is not queryable" when a pool ends under a request.
  return /timeout exceeded when trying to connect|Connection terminated|connection timeout|is not queryable|canceling statement due to statement timeout/i.test(message);
}

/**
 * PostgreSQL aborted the transaction to break a deadlock (40P01) or a serialization conflict (40001) with a
 * concurrent writer; run again, it normally succeeds.
 */
export function isTransactionConflict(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === '40P01' || code === '40001';
}
