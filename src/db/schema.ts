import type { ColumnType, Generated, Insertable, Selectable } from 'kysely';

/** Milliseconds since the epoch; BIGINT on PostgreSQL, INTEGER on SQLite. */
type Millis = number;
/** 0 or 1: one boolean representation for both stores. */
type Flag = ColumnType<number, number | undefined, number>;

export interface OrganisationTable {
  id: string;
  name: string;
  created_at: Millis;
}

export interface AccountTable {
  id: string;
  org_id: string;
  name: string;
  created_at: Millis;
}

export interface StreamTable {
  id: string;
  account_id: string;
  name: string;
  created_at: Millis;
}

export interface UserTable {
  id: string;
  account_id: string;
  name: string;
  created_at: Millis;
  /** Console sign-in (0005); null for the owners of apps. */
  email: ColumnType<string | null, string | null | undefined, string | null>;
  /** argon2id PHC string. */
  password_hash: ColumnType<string | null, string | null | undefined, string | null>;
  disabled_at: ColumnType<Millis | null, Millis | null | undefined, Millis | null>;
}

/** A signed-in console user; `id` is the sha256 of the cookie's token. */
export interface ConsoleSessionTable {
  id: string;
  user_id: string;
  account_id: string;
  csrf_token: string;
  created_at: Millis;
  last_seen_at: Millis;
}

export interface SignInFailureTable {
  key: string;
  at: Millis;
}

export interface AppTable {
  id: string;
  client_id: string;
  account_id: string;
  user_id: string;
  name: string;
  /** Shared secret for HS256; for RS256/ES256 apps it is kept only to satisfy `dialbook token`. */
  client_secret: string;
  algorithm: string;
  public_key: string | null;
  /** JSON array of scope names. */
  scopes: string;
  enforce_jti: Flag;
  created_at: Millis;
  /** When `dialbook apps disable` turned the app off (0008); null while it is on. */
  disabled_at: ColumnType<Millis | null, Millis | null | undefined, Millis | null>;
}

export interface AppStreamTable {
  app_id: string;
  stream_id: string;
}

export interface SettingTable {
  key: string;
  value: string;
}

export interface ContactTable {
  id: string;
  stream_id: string;
  account_id: string;
  org_id: string;
  status: 'ACTIVE' | 'INACTIVE';
  first_name: string;
  last_name: string;
  salutation: string;
  phone_number: string;
  country_code: string;
  extension: string;
  created_by: string;
  created_by_aid: string;
  updated_by: string | null;
  updated_by_aid: string | null;
  /** The import that created the contact, when one did. */
  import_id: string | null;
  /**
   * 1 while the contact is as its import created it and that creation's history entry is not written yet (0013): the
   * entry is read off the contact, and the first change writes it (history/imported-creation.ts).
   */
  history_pending: Flag;
  created_at: Millis;
  updated_at: Millis;
  /** Folded last name (contacts/name-key.ts): prefix search and `sort=lastName`. */
  last_name_key: string;
  /** Folded "first last": prefix search on the first and on the full name. */
  full_name_key: string;
}

/** A share of a stream's contact counts; the stream's counts are the sums over its shards (contacts/stream-counts.repository.ts). */
export interface StreamCountTable {
  stream_id: string;
  shard: number;
  account_id: string;
  active: number;
  inactive: number;
}

/** One row: a number that triggers move on every change to accounts, streams, apps and app_streams. */
export interface TenancyVersionTable {
  id: number;
  version: number;
}

export type ImportJobState = 'queued' | 'running' | 'completed' | 'failed' | 'cancelled' | 'reverted';

/** An import: a job run by a worker, or the run of the synchronous endpoint (kind `sync`). */
export interface ImportJobTable {
  id: string;
  stream_id: string;
  account_id: string;
  org_id: string;
  created_by: string;
  created_by_aid: string;
  kind: 'job' | 'sync';
  state: ImportJobState;
  /** JSON of ImportOptions. */
  options: string;
  file_name: string | null;
  bytes: number;
  /** JSON array: the file's header row as uploaded. */
  header: string | null;
  total_rows: number | null;
  /** JSON `{encoding, delimiter}`: how the file is read; null (UTF-8, comma) for jobs older than it. */
  csv_format: string | null;
  processed_rows: Generated<number>;
  created_count: Generated<number>;
  updated_count: Generated<number>;
  failed_count: Generated<number>;
  /** Last line whose batch is committed. */
  resume_line: Generated<number>;
  /** JSON of the error detail of a failed job. */
  error: string | null;
  cancel_requested: Flag;
  lease_token: string | null;
  lease_expires_at: Millis | null;
  attempts: Generated<number>;
  created_at: Millis;
  started_at: Millis | null;
  updated_at: Millis;
  finished_at: Millis | null;
  /** JSON of what a revert did (0008); null until the import is reverted. */
  revert: ColumnType<string | null, string | null | undefined, string | null>;
}

/** A piece of an upload kept in the store until its job ends (PostgreSQL). */
export interface ImportFileTable {
  job_id: string;
  seq: number;
  data: Buffer;
  created_at: Millis;
}

/** A row of an import that failed: its cells as uploaded and its errors. */
export interface ImportFailureTable {
  job_id: string;
  line: number;
  /** JSON array of strings. */
  cells: string;
  /** JSON array of ErrorDetail. */
  errors: string;
}

/** An Idempotency-Key of an account: claimed by the request that runs under it, then holding its answer. */
export interface IdempotencyKeyTable {
  account_id: string;
  idempotency_key: string;
  /** Random token of the request holding the key; a takeover replaces it, so a dead holder cannot finish. */
  claim_token: string;
  status: 'running' | 'done';
  /** sha256 of the request; null while an upload is still being read. */
  fingerprint: string | null;
  response_status: number | null;
  response_type: string | null;
  /** First use of the key; it is kept IDEMPOTENCY_TTL_SECONDS from then. */
  created_at: Millis;
  /** Last sign of life of a running holder. */
  locked_at: Millis;
}

/** The stored answer of a key, in pieces, so that a streamed answer is written and replayed a piece at a time. */
export interface IdempotencyChunkTable {
  account_id: string;
  idempotency_key: string;
  claim_token: string;
  seq: number;
  data: Buffer;
}

/** One change to a contact (0008). */
export interface ContactHistoryTable {
  seq: Generated<number>;
  stream_id: string;
  account_id: string;
  contact_id: string;
  at: Millis;
  action: 'created' | 'updated' | 'deleted' | 'restored' | 'imported' | 'reverted';
  user_id: string;
  app_id: string;
  import_id: string | null;
  /** JSON: {field: {from, to}}. */
  changes: string;
}

export interface WebhookEndpointTable {
  id: string;
  stream_id: string;
  account_id: string;
  url: string;
  /** `*`, or `,type,type,`. */
  events: string;
  description: string;
  secret: string;
  previous_secret: string | null;
  previous_secret_until: Millis | null;
  disabled: Flag;
  disabled_reason: string | null;
  created_at: Millis;
  updated_at: Millis;
}

/** The outbox: an event, written in the transaction of the change it tells. */
export interface WebhookEventTable {
  seq: Generated<number>;
  id: string;
  stream_id: string;
  account_id: string;
  type: string;
  subject: string;
  payload: string;
  created_at: Millis;
}

export type DeliveryState = 'pending' | 'delivered' | 'failed';

export interface WebhookDeliveryTable {
  endpoint_id: string;
  event_seq: number;
  stream_id: string;
  account_id: string;
  subject: string;
  state: DeliveryState;
  attempts: Generated<number>;
  round_attempts: Generated<number>;
  next_attempt_at: Millis;
  lease_token: string | null;
  lease_expires_at: Millis | null;
  last_status: number | null;
  last_error: string | null;
  created_at: Millis;
  finished_at: Millis | null;
}

export interface WebhookAttemptTable {
  endpoint_id: string;
  event_seq: number;
  attempt: number;
  at: Millis;
  status: number | null;
  latency_ms: number;
  error: string | null;
  /** The INSTANCE_ID of the process that made the try; null for tries logged before it was recorded. */
  instance: string | null;
}

export interface Database {
  contact_history: ContactHistoryTable;
  webhook_endpoints: WebhookEndpointTable;
  webhook_events: WebhookEventTable;
  webhook_deliveries: WebhookDeliveryTable;
  webhook_attempts: WebhookAttemptTable;
  organisations: OrganisationTable;
  accounts: AccountTable;
  streams: StreamTable;
  users: UserTable;
  console_sessions: ConsoleSessionTable;
  sign_in_failures: SignInFailureTable;
  apps: AppTable;
  app_streams: AppStreamTable;
  settings: SettingTable;
  contacts: ContactTable;
  stream_counts: StreamCountTable;
  tenancy_version: TenancyVersionTable;
  import_jobs: ImportJobTable;
  store_probe: { id: number; written_at: number; padding: string | null };
  import_files: ImportFileTable;
  import_failures: ImportFailureTable;
  idempotency_keys: IdempotencyKeyTable;
  idempotency_chunks: IdempotencyChunkTable;
}

export type ContactRow = Selectable<ContactTable>;
export type NewContactRow = Insertable<ContactTable>;
export type AppRow = Selectable<AppTable>;
export type ImportJobRow = Selectable<ImportJobTable>;
export type ImportFailureRow = Selectable<ImportFailureTable>;
export type IdempotencyKeyRow = Selectable<IdempotencyKeyTable>;
export type ContactHistoryRow = Selectable<ContactHistoryTable>;
export type NewContactHistoryRow = Insertable<ContactHistoryTable>;
export type WebhookEndpointRow = Selectable<WebhookEndpointTable>;
export type WebhookDeliveryRow = Selectable<WebhookDeliveryTable>;
