import { Migrator, type Migration, type MigrationResultSet } from 'kysely';
import type { Kysely } from 'kysely';
import * as m0001 from './migrations/0001_initial.js';
import * as m0002 from './migrations/0002_contact_search.js';
import * as m0003 from './migrations/0003_idempotency.js';
import * as m0004 from './migrations/0004_import_jobs.js';
import * as m0005 from './migrations/0005_stream_counts.js';
import * as m0006 from './migrations/0006_tenancy_version.js';
import * as m0007 from './migrations/0007_users_sessions.js';
import * as m0008 from './migrations/0008_apps_disabled.js';
import * as m0009 from './migrations/0009_import_format.js';
import * as m0010 from './migrations/0010_store_probe.js';
import * as m0011 from './migrations/0011_integrations.js';
import * as m0012 from './migrations/0012_webhook_attempt_instance.js';
import * as m0013 from './migrations/0013_lazy_import_history.js';
import * as m0014 from './migrations/0014_no_pending_index.js';

// Listed in code rather than read from a folder, so that migrations run the same from src/ (tsx) and dist/.
const migrations: Record<string, Migration> = {
  '0001_initial': m0001,
  '0002_contact_search': m0002,
  '0003_idempotency': m0003,
  '0004_import_jobs': m0004,
  '0005_stream_counts': m0005,
  '0006_tenancy_version': m0006,
  '0007_users_sessions': m0007,
  '0008_apps_disabled': m0008,
  '0009_import_format': m0009,
  '0010_store_probe': m0010,
  '0011_integrations': m0011,
  '0012_webhook_attempt_instance': m0012,
  '0013_lazy_import_history': m0013,
  '0014_no_pending_index': m0014,
};

/** Brings the schema up to date; safe to run on every start and from several processes. */
export async function migrateToLatest(db: Kysely<any>): Promise<MigrationResultSet> {
  const migrator = new Migrator({ db, provider: { getMigrations: async () => migrations } });
  const result = await migrator.migrateToLatest();
  if (result.error) throw result.error;
  return result;
}
