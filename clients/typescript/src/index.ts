import createClient, { type Client, type ClientOptions } from 'openapi-fetch';
import type { components, paths } from './schema.js';

export type { components, paths } from './schema.js';

/** The API's own shapes, as the OpenAPI document names them. */
export type Contact = components['schemas']['Contact'];
export type ContactInput = components['schemas']['ContactInput'];
export type ImportJob = components['schemas']['ImportJob'];
export type WebhookEndpoint = components['schemas']['WebhookEndpoint'];
export type WebhookDelivery = components['schemas']['WebhookDelivery'];
export type HistoryEntry = components['schemas']['HistoryEntry'];
export type ErrorBody = components['schemas']['ErrorBody'];

export interface DialbookClientOptions {
  /** Where Dialbook serves, e.g. `https://dialbook.example.com`. */
  baseUrl: string;
  /** A JWT for the app (`dialbook token`), sent in the `auth` header. */
  token: string;
  /** The app's account, sent in the `accountId` header. */
  accountId: string;
  /** Another fetch (tests, a proxy); the global one by default. */
  fetch?: ClientOptions['fetch'];
}

/** The header parameters the client sends itself (accountId) become optional in every operation. */
type SentByClient<H> = Omit<H, 'accountId'> & Partial<Pick<H, 'accountId' & keyof H>>;
type Operation<O> = O extends { parameters: { header: infer H } }
  ? Omit<O, 'parameters'> & { parameters: Omit<O['parameters'], 'header'> & { header?: SentByClient<H> } }
  : O;
/** The document's paths as callers of this client see them. */
export type ClientPaths = { [P in keyof paths]: { [M in keyof paths[P]]: Operation<paths[P][M]> } };

export type DialbookClient = Client<ClientPaths>;

/**
 * A client whose every call is typed from the service's OpenAPI document: paths, path and query parameters, bodies and
 * answers (each status its own type). It sends the token and the account on every request.
 */
export function createDialbookClient(options: DialbookClientOptions): DialbookClient {
  const client = createClient<ClientPaths>({ baseUrl: options.baseUrl, ...(options.fetch && { fetch: options.fetch }) });
  client.use({
    onRequest({ request }) {
      request.headers.set('auth', options.token);
      request.headers.set('accountId', options.accountId);
      return request;
    },
  });
  return client;
}
