import type { ContactRow } from '../db/schema.js';
import type { JsonBytes } from '../shared/json-bytes.js';

/** The contract's JSON for one contact. */
export interface Contact {
  status: 'ACTIVE' | 'INACTIVE';
  firstName: string;
  lastName: string;
  salutation: string;
  cellPhone: { phoneNumber: string; countryCode: string; extension: string };
  createdBy: string;
  createdByAId: string;
  orgId: string;
  accountId: string;
  instanceBotId: string;
  fullName: string;
  address: unknown[];
  twitterDetails: unknown[];
  createdAt: string;
  updatedAt: string;
  updatedBy?: string;
  updatedByAId?: string;
  id: string;
}

/** Maps a stored row to the API shape; the one place that knows both. */
export function toContact(row: ContactRow): Contact {
  const contact: Contact = {
    status: row.status,
    firstName: row.first_name,
    lastName: row.last_name,
    salutation: row.salutation,
    cellPhone: { phoneNumber: row.phone_number, countryCode: row.country_code, extension: row.extension },
    createdBy: row.created_by,
    createdByAId: row.created_by_aid,
    orgId: row.org_id,
    accountId: row.account_id,
    instanceBotId: row.stream_id,
    fullName: `${row.first_name} ${row.last_name}`,
    address: [],
    twitterDetails: [],
    createdAt: new Date(row.created_at).toISOString(),
    updatedAt: new Date(row.updated_at).toISOString(),
    id: row.id,
  };
  if (row.updated_by) contact.updatedBy = row.updated_by;
  if (row.updated_by_aid) contact.updatedByAId = row.updated_by_aid;
  return contact;
}

/** The contact's own fields as `toContact` lists them, each with the JSON before its value. */
const OWN_FIELDS = [
  ['{"status":', 'status'],
  [',"firstName":', 'first_name'],
  [',"lastName":', 'last_name'],
  [',"salutation":', 'salutation'],
  [',"cellPhone":{"phoneNumber":', 'phone_number'],
  [',"countryCode":', 'country_code'],
  [',"extension":', 'extension'],
] as const satisfies readonly (readonly [string, keyof ContactRow])[];

/**
 * `JSON.stringify(toContact(row))`, byte for byte, written into `out`: for the synchronous import's answer, which
 * writes one contact per row (a million rows make a 557 MB answer). The columns every contact of one import batch
 * shares (its tenant, creator and times) are made JSON once and reused while they stay the same.
 */
export function contactJsonWriter(): (row: ContactRow, out: JsonBytes) => void {
  let last: ContactRow | undefined;
  let actor = '';
  let times = '';
  const sameShared = (a: ContactRow, b: ContactRow) =>
    a.created_by === b.created_by && a.created_by_aid === b.created_by_aid && a.org_id === b.org_id && a.account_id === b.account_id &&
    a.stream_id === b.stream_id && a.created_at === b.created_at && a.updated_at === b.updated_at;
  return (row, out) => {
    if (row.updated_by || row.updated_by_aid) return out.raw(JSON.stringify(toContact(row)));
    if (!last || !sameShared(last, row)) {
      last = row;
      actor = `,"createdBy":${JSON.stringify(row.created_by)},"createdByAId":${JSON.stringify(row.created_by_aid)},"orgId":${JSON.stringify(row.org_id)}` +
        `,"accountId":${JSON.stringify(row.account_id)},"instanceBotId":${JSON.stringify(row.stream_id)}`;
      times = `,"address":[],"twitterDetails":[],"createdAt":"${new Date(row.created_at).toISOString()}","updatedAt":"${new Date(row.updated_at).toISOString()}","id":`;
    }
    for (const [key, column] of OWN_FIELDS) {
      out.raw(key);
      out.string(row[column]);
    }
    out.raw('}');
    out.raw(actor);
    out.raw(',"fullName":');
    out.stringOfTwo(row.first_name, row.last_name);
    out.raw(times);
    out.string(row.id);
    out.raw('}');
  };
}
