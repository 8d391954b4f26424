import type { FastifyRequest } from 'fastify';

/** Query parameters that may carry a credential; their values never reach the log. */
const SECRET_PARAMS = new Set(['auth', 'token', 'access_token', 'jwt', 'client_secret', 'authorization', 'id_token', 'refresh_token']);

/** The URL with the value of every credential-bearing query parameter replaced by `[Redacted]`. */
export function redactUrl(url: string): string {
  const q = url.indexOf('?');
  if (q < 0) return url;
  const query = url.slice(q + 1).split('&').map((pair) => {
    const eq = pair.indexOf('=');
    const rawName = eq < 0 ? pair : pair.slice(0, eq);
    let name = rawName;
    try {
      name = decodeURIComponent(rawName.replace(/\+/g, ' '));
    } catch {
      // A malformed name is logged as sent; it is not one of ours.
    }
    return SECRET_PARAMS.has(name.trim().toLowerCase()) ? `${rawName}=[Redacted]` : pair;
  });
  return `${url.slice(0, q)}?${query.join('&')}`;
}

/** The logger's options: Fastify's request line with credentials left out of the URL and the headers. */
export const loggerRedaction = {
  redact: ['req.headers.auth', 'req.headers.authorization', 'req.headers.cookie', '*.clientSecret', '*.token'],
  serializers: {
    req(request: FastifyRequest) {
      return {
        method: request.method,
        url: redactUrl(request.url),
        host: request.host,
        remoteAddress: request.ip,
        remotePort: request.socket?.remotePort,
      };
    },
  },
};
