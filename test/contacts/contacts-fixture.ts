import assert from 'node:assert/strict';
import { before } from 'node:test';
import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import type { Dialect } from '../../src/db/database.js';
import { contactInput, createTenant, useApiFixture, type ApiFixture, type Tenant } from '../helpers/app.js';

export interface ContactJson {
  id: string;
  status: 'ACTIVE' | 'INACTIVE';
  firstName: string;
  lastName: string;
  salutation: string;
  fullName: string;
  cellPhone: { phoneNumber: string; countryCode: string; extension: string };
  createdAt: string;
  updatedAt: string;
  updatedBy?: string;
  updatedByAId?: string;
  [key: string]: unknown;
}

/**
 * A fresh store and app per suite, with two tenants: `tenant` does the work, `other` proves isolation.
 * Registers its own before/after hooks in the calling describe block.
 */
export function contactsFixture(dialect: Dialect, env: Record<string, string> = {}) {
  const fx = useApiFixture(dialect, env) as ApiFixture & { other: Tenant };
  // Runs after the shared fixture's own `before`, which made the store.
  before(async () => {
    fx.other = await createTenant(fx.store.store);
  });

  /** A request on a tenant's stream: `path` is below `/contacts`. */
  const call = (method: InjectOptions['method'], path: string, payload?: unknown, as: Tenant = fx.tenant): Promise<LightMyRequestResponse> =>
    fx.api.app.inject({
      method,
      url: `${as.base}/contacts${path}`,
      headers: as.headers,
      ...(payload !== undefined && { payload: payload as object }),
    });

  /** Creates contacts through the API and returns them as answered. */
  const create = async (overrides: Record<string, unknown>[] = [{}], as: Tenant = fx.tenant): Promise<ContactJson[]> => {
    const res = await call('POST', '', overrides.map((o) => contactInput(o)), as);
    assert.equal(res.statusCode, 200, res.body);
    return res.json();
  };

  const list = async (query: string, as: Tenant = fx.tenant) => {
    const res = await call('GET', query ? `?${query}` : '', undefined, as);
    assert.equal(res.statusCode, 200, res.body);
    return res.json() as { results: ContactJson[]; skip?: number; limit: number; hasMore: boolean; totalPages?: number; totalResults?: number; totalResultsExact?: false; nextCursor?: string };
  };

  /** A tenant of its own, for a test that needs a stream with nothing else in it. */
  const freshTenant = () => createTenant(fx.store.store);

  return Object.assign(fx, { call, create, list, freshTenant });
}

/** The body of a 404 with the id blanked out: a foreign contact must answer exactly like a missing one. */
export function blankId(body: string, id: string): unknown {
  return JSON.parse(body.replaceAll(id, '<id>'));
}

export const MISSING_ID = '0123456789abcdef01234567';
