import type { ContactRow } from '../db/schema.js';

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
