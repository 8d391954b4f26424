import type { ContactRow } from '../db/schema.js';

/** What a history entry says changed: each field by its API name, from its earlier value to its new one. */
export type FieldChanges = Record<string, { from: string | null; to: string | null }>;

/** Stored columns and their API names, in the order entries list them. */
export const HISTORY_FIELDS = [
  ['status', 'status'],
  ['first_name', 'firstName'],
  ['last_name', 'lastName'],
  ['salutation', 'salutation'],
  ['phone_number', 'cellPhone.phoneNumber'],
  ['country_code', 'cellPhone.countryCode'],
  ['extension', 'cellPhone.extension'],
] as const satisfies readonly (readonly [keyof ContactRow, string])[];

export type HistoryColumn = (typeof HISTORY_FIELDS)[number][0];

/** The fields that differ between two states of a contact; every field, from null, for a new contact. */
export function contactChanges(before: Pick<ContactRow, HistoryColumn> | undefined, after: Pick<ContactRow, HistoryColumn>): FieldChanges {
  const changes: FieldChanges = {};
  for (const [column, name] of HISTORY_FIELDS) {
    const from = before ? before[column] : null;
    const to = after[column];
    if (from !== to) changes[name] = { from, to };
  }
  return changes;
}

const CREATED_PREFIXES = HISTORY_FIELDS.map(([column, name], i) => [column, `${i === 0 ? '{' : ','}${JSON.stringify(name)}:{"from":null,"to":`] as const);

/** `JSON.stringify(contactChanges(undefined, contact))` for a new contact, built as text (an import writes millions). */
export function createdChangesJson(contact: Pick<ContactRow, HistoryColumn>): string {
  let text = '';
  for (const [column, prefix] of CREATED_PREFIXES) text += `${prefix}${JSON.stringify(contact[column])}}`;
  return `${text}}`;
}
