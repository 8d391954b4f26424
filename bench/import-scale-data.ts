// The files bench/import-scale.ts imports: the raw CSV a caller uploads (unsorted, unique, valid Indian mobiles,
// some quoted names), and the same rows fully formed as the contacts table stores them, for the baselines.
// Both are generated from a seed, so every run imports the same bytes.
import fs from 'node:fs';
import { nameKeys } from '../src/contacts/name-key.js';
import { normalisePhone } from '../src/contacts/phone.js';
import { newObjectId } from '../src/shared/ids.js';

export const RAW_HEADER = 'firstName,lastName,salutation,cellPhoneNumber,cellPhoneCountryCode,cellPhoneExtension';
export const RAW_COLUMNS = RAW_HEADER.split(',');

const FIRST = [
  'Aarav', 'Vivaan', 'Aditya', 'Vihaan', 'Arjun', 'Sai', 'Reyansh', 'Krishna', 'Ishaan', 'Shaurya', 'Ananya', 'Diya',
  'Priya', 'Kavya', 'Meera', 'Saanvi', 'Aadhya', 'Myra', 'Anika', 'Pari', 'John', 'Jane', 'Maria', 'José', 'Zoë',
  'Renée', 'Søren', 'Chloé', 'Mohammed', 'Fatima', 'Wei', 'Yuki', 'Olga', 'Nikhil', 'Rahul', 'Sneha', 'Pooja',
];
const LAST = [
  'Sharma', 'Verma', 'Gupta', 'Iyer', 'Nair', 'Reddy', 'Patel', 'Shah', 'Mehta', 'Khan', 'Singh', 'Kumar', 'Das',
  'Banerjee', 'Chatterjee', 'Mukherjee', 'Rao', 'Pillai', 'Menon', 'Doe', 'Smith', "O'Brien", 'García', 'Müller',
  'Núñez', 'Øster', 'Dubois', 'Kowalski', 'Nguyen', 'Fernandes', 'D’Souza', 'Joshi', 'Kulkarni', 'Bose',
];
const SALUTATIONS = ['Mr', 'Ms', 'Mrs', 'Dr', 'Prof'];
const EXTENSIONS = ['+', '+', '+', '+', '+', '+', '1', '12', '204', '4711'];

// The numbers: 10 digits starting 6, 7, 8 or 9 (Indian mobiles), i.e. 6,000,000,000 + v for v in [0, 4e9).
const NUMBER_SPACE = 4_000_000_000;
const NUMBER_BASE = 6_000_000_000;

function mix32(x: number): number {
  let h = x >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d);
  h = Math.imul(h ^ (h >>> 15), 0x846ca68b);
  return (h ^ (h >>> 16)) >>> 0;
}

/** Seeded row generator: row i always gives the same fields for the same seed. */
export class RowSource {
  private readonly keys: number[];
  private readonly salt: number;

  constructor(readonly seed: number) {
    this.keys = [1, 2, 3, 4].map((round) => mix32(seed * 4 + round));
    this.salt = mix32(seed ^ 0x5bd1e995);
  }

  /** A permutation of [0, 2^32): a 4-round Feistel network on 16-bit halves. */
  private feistel(x: number): number {
    let l = x >>> 16;
    let r = x & 0xffff;
    for (const k of this.keys) {
      const f = mix32((r ^ k) >>> 0) & 0xffff;
      [l, r] = [r, (l ^ f) & 0xffff];
    }
    return ((l << 16) | r) >>> 0;
  }

  /** Row i's national number: distinct for distinct i (a permutation of [0, 4e9), by cycle walking), in random order. */
  number(i: number): string {
    let v = this.feistel(i);
    while (v >= NUMBER_SPACE) v = this.feistel(v);
    return String(NUMBER_BASE + v);
  }

  /** Row i as parsed cells, in RAW_HEADER order. */
  fields(i: number): [string, string, string, string, string, string] {
    const h = mix32(i ^ this.salt);
    const g = mix32(h + i);
    let last = LAST[h % LAST.length]!;
    if (g % 25 === 0) last += ', Jr.';
    return [FIRST[(h >>> 8) % FIRST.length]!, last, SALUTATIONS[(g >>> 4) % SALUTATIONS.length]!, this.number(i), '+91', EXTENSIONS[(g >>> 12) % EXTENSIONS.length]!];
  }
}

/** RFC 4180 quoting, only where a cell needs it. */
function cell(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

const LINES_PER_WRITE = 2000;

function writeLines(file: string, rows: number, header: string | undefined, line: (i: number) => string): number {
  const fd = fs.openSync(file, 'w');
  let bytes = 0;
  try {
    if (header !== undefined) bytes += fs.writeSync(fd, `${header}\n`);
    for (let i = 0; i < rows; i += LINES_PER_WRITE) {
      let chunk = '';
      for (let j = i; j < Math.min(rows, i + LINES_PER_WRITE); j++) chunk += `${line(j)}\n`;
      bytes += fs.writeSync(fd, chunk);
    }
  } finally {
    fs.closeSync(fd);
  }
  return bytes;
}

/** The upload: header plus `rows` data rows. Every 7th first name is quoted although it need not be. Returns bytes. */
export function writeRawCsv(file: string, rows: number, source: RowSource): number {
  return writeLines(file, rows, RAW_HEADER, (i) => {
    const f = source.fields(i);
    const first = i % 7 === 3 ? `"${f[0]}"` : cell(f[0]);
    return [first, ...f.slice(1).map(cell)].join(',');
  });
}

/** One column of the migrated contacts table, as `PRAGMA table_info` gives it. */
export interface TableColumn {
  name: string;
  notnull: number;
  dflt_value: string | null;
}

/** The identities a formed row carries (`dialbook setup --json` prints them). */
export interface Tenant {
  orgId: string;
  accountId: string;
  streamId: string;
  userId: string;
  appId: string;
}

/**
 * The same rows as the contacts table holds them after an import: ids, tenant, ACTIVE, E.164 number, name keys,
 * timestamps, in the table's own column order, no header. A nullable column the import leaves empty is an empty
 * unquoted cell (NULL for psql's CSV COPY; sqlite3's .import stores '' — the same record size). A NOT NULL column
 * this generator does not know gets its default. Some numbers are checked with the service's own normalisePhone.
 */
export function writeFormedCsv(file: string, rows: number, source: RowSource, tenant: Tenant, columns: TableColumn[]): number {
  const now = Date.now();
  const makers = columns.map((column): ((f: string[], keys: ReturnType<typeof nameKeys>) => string) => {
    switch (column.name) {
      case 'id': return () => newObjectId(now);
      case 'stream_id': return () => tenant.streamId;
      case 'account_id': return () => tenant.accountId;
      case 'org_id': return () => tenant.orgId;
      case 'status': return () => 'ACTIVE';
      case 'first_name': return (f) => cell(f[0]!);
      case 'last_name': return (f) => cell(f[1]!);
      case 'salutation': return (f) => cell(f[2]!);
      case 'phone_number': return (f) => `+91${f[3]}`;
      case 'country_code': return () => '+91';
      case 'extension': return (f) => cell(f[5]!);
      case 'created_by': return () => tenant.userId;
      case 'created_by_aid': return () => tenant.appId;
      case 'created_at': case 'updated_at': return () => String(now);
      case 'last_name_key': return (_f, k) => cell(k.last_name_key);
      case 'full_name_key': return (_f, k) => cell(k.full_name_key);
      default: {
        if (!column.notnull) return () => '';
        if (column.dflt_value === null) throw new Error(`contacts.${column.name} is NOT NULL without a default: the formed CSV cannot fill it`);
        // A SQL literal: 'text' or a number.
        const literal = column.dflt_value.replace(/^'(.*)'$/s, (_m, s: string) => s.replace(/''/g, "'"));
        return () => (literal === '' ? '""' : cell(literal));
      }
    }
  });
  return writeLines(file, rows, undefined, (i) => {
    const f = source.fields(i);
    if (i % 1009 === 0) {
      const phone = normalisePhone(f[3], f[4]);
      if (!phone.ok || phone.value.phoneNumber !== `+91${f[3]}`) throw new Error(`bench row ${i}: ${f[3]} does not normalise to +91${f[3]}`);
    }
    const keys = nameKeys(f[0], f[1]);
    return makers.map((make) => make(f, keys)).join(',');
  });
}
