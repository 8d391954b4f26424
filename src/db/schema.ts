import type { ColumnType, Insertable, Selectable } from 'kysely';

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
  created_at: Millis;
  updated_at: Millis;
  /** Folded last name (contacts/name-key.ts): prefix search and `sort=lastName`. */
  last_name_key: string;
  /** Folded "first last": prefix search on the first and on the full name. */
  full_name_key: string;
}

export interface ImportTable {
  id: string;
  stream_id: string;
  account_id: string;
  app_id: string;
  user_id: string;
  status: 'receiving' | 'applying' | 'done' | 'failed';
  total_rows: number;
  created_count: number;
  updated_count: number;
  failed_count: number;
  created_at: Millis;
  finished_at: Millis | null;
}

/** One data row of an upload, staged before it is applied to `contacts` with set-based statements. */
export interface ImportRowTable {
  import_id: string;
  line: number;
  first_name: string;
  last_name: string;
  salutation: string;
  phone_number: string | null;
  country_code: string;
  extension: string;
  /** Id the contact gets if the row creates one. */
  candidate_id: string;
  /** Set once the row is settled: created, updated or failed. */
  outcome: 'created' | 'updated' | 'failed' | null;
  contact_id: string | null;
  error_code: string | null;
  /** JSON array of error details, for rows that failed their own checks. */
  errors: string | null;
  /** For a number repeated in the file: the line that keeps it. */
  first_line: number | null;
  /** The contact's name keys, folded before staging so that the set-based apply copies them. */
  last_name_key: string;
  full_name_key: string;
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

export interface Database {
  organisations: OrganisationTable;
  accounts: AccountTable;
  streams: StreamTable;
  users: UserTable;
  apps: AppTable;
  app_streams: AppStreamTable;
  settings: SettingTable;
  contacts: ContactTable;
  imports: ImportTable;
  import_rows: ImportRowTable;
  idempotency_keys: IdempotencyKeyTable;
  idempotency_chunks: IdempotencyChunkTable;
}

export type ContactRow = Selectable<ContactTable>;
export type NewContactRow = Insertable<ContactTable>;
export type AppRow = Selectable<AppTable>;
export type ImportRow = Selectable<ImportRowTable>;
export type NewImportRow = Insertable<ImportRowTable>;
export type IdempotencyKeyRow = Selectable<IdempotencyKeyTable>;
