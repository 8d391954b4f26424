import os from 'node:os';
import path from 'node:path';

/** Which store a DATABASE_URL points at. */
export type StoreUrl =
  | { kind: 'sqlite'; file: string }
  | { kind: 'postgres'; url: string };

export interface Config {
  readonly host: string;
  readonly port: number;
  /** This process's name among the instances on one store (the webhook delivery log says which made each try). */
  readonly instanceId: string;
  readonly logLevel: string;
  /** `pretty` (one readable line an event) or `json` (one object a line); `auto`: pretty on a terminal, else json. */
  readonly logFormat: 'auto' | 'pretty' | 'json';
  readonly database: StoreUrl;
  readonly pgPoolSize: number;
  readonly pgStatementTimeoutMs: number;
  readonly redisUrl: string | undefined;
  /** Starts every key Dialbook writes to Redis, so several deployments (or test runs) can share one Redis. */
  readonly redisKeyPrefix: string;
  /** Requests per account per minute; 0 turns the limit off. */
  readonly rateLimitPerMinute: number;
  readonly jwtClockSkewSeconds: number;
  /** How long a jti is remembered, and the oldest `iat` accepted from an app that enforces jti. */
  readonly jtiRetentionSeconds: number;
  readonly bodyLimitBytes: number;
  readonly maxContactsPerRequest: number;
  /** Rows an export reads from its snapshot and writes to the file at a time. */
  readonly exportChunkRows: number;
  readonly importMaxBytes: number;
  readonly importMaxRows: number;
  readonly requestTimeoutMs: number;
  readonly shutdownGraceMs: number;
  /** How long an Idempotency-Key and its answer are kept after the key's first use; at least a day, as promised to callers. */
  readonly idempotencyTtlSeconds: number;
  /** How long finished import jobs and their failures are kept. */
  readonly importRetentionDays: number;
  /** Import jobs this instance runs at once; 0: it only takes uploads, other instances run them. */
  readonly importWorkers: number;
  /** How long a worker holds a job without renewing before another may take it over. */
  readonly importLeaseSeconds: number;
  /** How often an idle worker looks for queued jobs (a job queued by this instance starts at once). */
  readonly importPollMs: number;
  /** Rows applied per transaction. */
  readonly importBatchRows: number;
  /** SQLite: where uploads wait for their jobs; by default a folder beside the database file. */
  readonly importUploadDir: string | undefined;
  /** Console sessions end after this long without a request. */
  readonly sessionIdleMinutes: number;
  /** Console sessions end this long after sign-in, however busy. */
  readonly sessionMaxHours: number;
  /** `auto`: the session cookie is Secure when the request came over https (directly or per X-Forwarded-Proto). */
  readonly sessionCookieSecure: 'auto' | 'always' | 'never';
  /** Refused sign-ins counted per email and per client address over SIGN_IN_WINDOW_MINUTES; at the limit, sign-in waits. */
  readonly signInMaxFailuresPerUser: number;
  readonly signInMaxFailuresPerAddress: number;
  readonly signInWindowMinutes: number;
  /** Webhook tries this instance has in flight at once; 0: it delivers nothing (another instance does). */
  readonly webhookWorkers: number;
  /** A webhook try that has no answer by then has failed. */
  readonly webhookTimeoutMs: number;
  /** How often an idle delivery worker looks for due deliveries (writes of this instance wake it at once). */
  readonly webhookPollMs: number;
  /** Waits after each failed try, in milliseconds; a delivery fails once they are used up. */
  readonly webhookRetrySchedule: readonly number[];
  /** Lets webhooks reach loopback and private addresses (tests, a receiver on the same network). */
  readonly webhookAllowPrivateTargets: boolean;
  /** How long delivered and failed webhook deliveries, their log and their events are kept. */
  readonly webhookRetentionDays: number;
  /** After a secret rotation, how long the old secret still signs beside the new one. */
  readonly webhookSecretGraceSeconds: number;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

type Env = Record<string, string | undefined>;

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** The Standard Webhooks retry schedule: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h after each failed try (~27 h). */
const DEFAULT_RETRY_SCHEDULE = '5s,5m,30m,2h,5h,10h,10h';

const DEFAULT_SQLITE_FILE = path.join('data', 'dialbook.db');

/** Reads the environment once; the only place in the code base that looks at process.env. */
export function loadConfig(env: Env = process.env): Config {
  const config: Config = {
    host: str(env, 'HOST', '127.0.0.1'),
    port: int(env, 'PORT', 3000, 0, 65535),
    instanceId: instanceId(env),
    logLevel: oneOf(env, 'LOG_LEVEL', LOG_LEVELS, 'info'),
    logFormat: oneOf(env, 'LOG_FORMAT', ['auto', 'pretty', 'json'] as const, 'auto'),
    database: parseDatabaseUrl(env.DATABASE_URL),
    pgPoolSize: int(env, 'PG_POOL_SIZE', 10, 1, 1000),
    pgStatementTimeoutMs: int(env, 'PG_STATEMENT_TIMEOUT_MS', 15_000, 0, 3_600_000),
    redisUrl: env.REDIS_URL?.trim() || undefined,
    redisKeyPrefix: str(env, 'REDIS_KEY_PREFIX', 'dialbook:'),
    rateLimitPerMinute: int(env, 'RATE_LIMIT_PER_MINUTE', 60, 0, 1_000_000_000),
    jwtClockSkewSeconds: int(env, 'JWT_CLOCK_SKEW_SECONDS', 30, 0, 3600),
    jtiRetentionSeconds: int(env, 'JTI_RETENTION_SECONDS', 86_400, 60, 30 * 86_400),
    bodyLimitBytes: int(env, 'BODY_LIMIT_BYTES', 1024 * 1024, 1024, 1024 ** 3),
    maxContactsPerRequest: int(env, 'MAX_CONTACTS_PER_REQUEST', 1000, 1, 1_000_000),
    exportChunkRows: int(env, 'EXPORT_CHUNK_ROWS', 500, 1, 100_000),
    importMaxBytes: int(env, 'IMPORT_MAX_BYTES', 100 * 1024 * 1024, 1024, 64 * 1024 ** 3),
    importMaxRows: int(env, 'IMPORT_MAX_ROWS', 1_000_000, 1, 1_000_000_000),
    requestTimeoutMs: int(env, 'REQUEST_TIMEOUT_MS', 300_000, 1000, 3_600_000),
    shutdownGraceMs: int(env, 'SHUTDOWN_GRACE_MS', 10_000, 0, 600_000),
    idempotencyTtlSeconds: int(env, 'IDEMPOTENCY_TTL_SECONDS', 86_400, 86_400, 30 * 86_400),
    importRetentionDays: int(env, 'IMPORT_RETENTION_DAYS', 7, 1, 3650),
    importWorkers: int(env, 'IMPORT_WORKERS', 1, 0, 64),
    importLeaseSeconds: int(env, 'IMPORT_LEASE_SECONDS', 60, 2, 3600),
    importPollMs: int(env, 'IMPORT_POLL_MS', 1000, 10, 600_000),
    importBatchRows: int(env, 'IMPORT_BATCH_ROWS', 25_000, 1, 100_000),
    importUploadDir: env.IMPORT_UPLOAD_DIR?.trim() || undefined,
    sessionIdleMinutes: int(env, 'SESSION_IDLE_MINUTES', 30, 1, 7 * 24 * 60),
    sessionMaxHours: int(env, 'SESSION_MAX_HOURS', 12, 1, 24 * 30),
    sessionCookieSecure: oneOf(env, 'SESSION_COOKIE_SECURE', ['auto', 'always', 'never'] as const, 'auto'),
    signInMaxFailuresPerUser: int(env, 'SIGN_IN_MAX_FAILURES_PER_USER', 5, 1, 1_000_000),
    signInMaxFailuresPerAddress: int(env, 'SIGN_IN_MAX_FAILURES_PER_ADDRESS', 20, 1, 1_000_000),
    signInWindowMinutes: int(env, 'SIGN_IN_WINDOW_MINUTES', 15, 1, 24 * 60),
    webhookWorkers: int(env, 'WEBHOOK_WORKERS', 8, 0, 256),
    webhookTimeoutMs: int(env, 'WEBHOOK_TIMEOUT_MS', 10_000, 100, 120_000),
    webhookPollMs: int(env, 'WEBHOOK_POLL_MS', 1000, 10, 600_000),
    webhookRetrySchedule: schedule(env, 'WEBHOOK_RETRY_SCHEDULE', DEFAULT_RETRY_SCHEDULE),
    webhookAllowPrivateTargets: bool(env, 'WEBHOOK_ALLOW_PRIVATE_TARGETS', false),
    webhookRetentionDays: int(env, 'WEBHOOK_RETENTION_DAYS', 7, 1, 3650),
    webhookSecretGraceSeconds: int(env, 'WEBHOOK_SECRET_GRACE_SECONDS', 86_400, 0, 30 * 86_400),
  };
  // Each import worker on PostgreSQL holds a connection for its batch, reads its upload through another and renews its
  // lease with a third; requests need at least one more.
  const needed = 3 * config.importWorkers + 1;
  if (config.database.kind === 'postgres' && config.pgPoolSize < needed) {
    throw new ConfigError(`PG_POOL_SIZE must be at least ${needed} for IMPORT_WORKERS=${config.importWorkers} (3 connections a worker, 1 at least for requests)`);
  }
  return Object.freeze(config);
}

/** `sqlite:PATH`, `file:PATH`, a bare path, or `postgres://…` / `postgresql://…`. */
export function parseDatabaseUrl(raw: string | undefined): StoreUrl {
  const value = raw?.trim();
  if (!value) return { kind: 'sqlite', file: DEFAULT_SQLITE_FILE };
  if (/^postgres(ql)?:\/\//i.test(value)) return { kind: 'postgres', url: value };
  const file = value.replace(/^(sqlite|file):(\/\/)?/i, '');
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(file)) {
    throw new ConfigError(`DATABASE_URL: unsupported store "${value.split(':')[0]}" (use sqlite:PATH or postgres://…)`);
  }
  if (!file) throw new ConfigError('DATABASE_URL: sqlite: needs a file path, e.g. sqlite:./data/dialbook.db');
  return { kind: 'sqlite', file };
}

/** INSTANCE_ID, or the host's name and the process id: unique among the processes on one store unless set twice. */
function instanceId(env: Env): string {
  const value = env.INSTANCE_ID?.trim() || `${os.hostname()}:${process.pid}`;
  // Shown in the delivery log as it is: printable, and short enough for a column of it.
  if (value.length > 200 || /[\u0000-\u001f\u007f]/.test(value)) throw new ConfigError('INSTANCE_ID must be at most 200 printable characters');
  return value;
}

function str(env: Env, name: string, fallback: string): string {
  return env[name]?.trim() || fallback;
}

function oneOf<T extends string>(env: Env, name: string, values: readonly T[], fallback: T): T {
  const raw = env[name]?.trim().toLowerCase();
  if (!raw) return fallback;
  if (!(values as readonly string[]).includes(raw)) throw new ConfigError(`${name} must be one of ${values.join(', ')}, got "${raw}"`);
  return raw as T;
}

function bool(env: Env, name: string, fallback: boolean): boolean {
  const raw = env[name]?.trim().toLowerCase();
  if (!raw) return fallback;
  if (raw === 'true' || raw === '1') return true;
  if (raw === 'false' || raw === '0') return false;
  throw new ConfigError(`${name} must be true or false, got "${raw}"`);
}

/** `5s,5m,30m,2h` (units ms, s, m, h) as milliseconds. */
function schedule(env: Env, name: string, fallback: string): readonly number[] {
  const raw = env[name]?.trim() || fallback;
  const units: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  const parsed: number[] = [];
  for (const part of raw.split(',')) {
    const m = /^(\d+)(ms|s|m|h)$/.exec(part.trim());
    if (!m) {
      parsed.length = 0;
      break;
    }
    parsed.push(Number(m[1]) * units[m[2]!]!);
  }
  if (parsed.length === 0) throw new ConfigError(`${name} must be a comma-separated list of waits such as 5s,5m,30m,2h (units ms, s, m, h), got "${raw}"`);
  return Object.freeze(parsed);
}

function int(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name]?.trim();
  if (!raw) return fallback;
  if (!/^\d+$/.test(raw)) throw new ConfigError(`${name} must be a whole number, got "${raw}"`);
  const value = Number(raw);
  if (value < min || value > max) throw new ConfigError(`${name} must be between ${min} and ${max}, got ${value}`);
  return value;
}
