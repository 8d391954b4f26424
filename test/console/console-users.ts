import type { Store } from '../../src/db/database.js';
import { createUserService } from '../../src/users/user.service.js';
import type { FastifyInstance } from 'fastify';

let serial = 0;

/** A console user of the account, with a password of the test's choosing. */
export async function createConsoleUser(store: Store, accountId: string, overrides: { email?: string; name?: string; password?: string } = {}) {
  serial += 1;
  const email = overrides.email ?? `user${process.pid}-${serial}@example.com`;
  const password = overrides.password ?? `correct horse ${serial}`;
  const created = await createUserService({ db: store.db }).createUser({ accountId, email, name: overrides.name, password });
  return { ...created, password };
}

export interface Signed {
  cookie: string;
  csrfToken: string;
  setCookie: string;
}

/** Signs in through the route the console uses; the cookie to send back and the session's CSRF token. */
export async function signIn(app: FastifyInstance, email: string, password: string, headers: Record<string, string> = {}): Promise<Signed> {
  const res = await app.inject({ method: 'POST', url: '/console/api/sign-in', headers, payload: { email, password } });
  if (res.statusCode !== 200) throw new Error(`sign-in answered ${res.statusCode}: ${res.body}`);
  const setCookie = String(res.headers['set-cookie']);
  return { cookie: setCookie.split(';')[0]!, csrfToken: res.json().csrfToken, setCookie };
}
