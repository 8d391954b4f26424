import dns from 'node:dns';
import net from 'node:net';

/**
 * Addresses a webhook may not reach unless private targets are allowed: loopback, private, link-local (cloud
 * metadata), carrier-grade NAT, multicast, reserved and unspecified ranges, of IPv4 and IPv6 (and IPv4 mapped into
 * IPv6). The check is made when an endpoint is saved and again on the address each delivery connects to, after DNS,
 * so a name that later resolves inward is refused too.
 */
const blocked = new net.BlockList();
for (const [prefix, bits] of [
  ['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16], ['172.16.0.0', 12],
  ['192.0.0.0', 24], ['192.0.2.0', 24], ['192.168.0.0', 16], ['198.18.0.0', 15], ['198.51.100.0', 24], ['203.0.113.0', 24],
  ['224.0.0.0', 4], ['240.0.0.0', 4],
] as const) {
  blocked.addSubnet(prefix, bits, 'ipv4');
}
for (const [prefix, bits] of [['::', 128], ['::1', 128], ['fc00::', 7], ['fe80::', 10], ['ff00::', 8], ['64:ff9b::', 96], ['2001:db8::', 32]] as const) {
  blocked.addSubnet(prefix, bits, 'ipv6');
}

export function isPrivateAddress(address: string): boolean {
  const family = net.isIP(address);
  if (family === 4) return blocked.check(address, 'ipv4');
  if (family === 6) {
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
    if (mapped) return blocked.check(mapped[1]!, 'ipv4');
    return blocked.check(address, 'ipv6');
  }
  return false;
}

/** Why a URL cannot be a webhook target, or undefined when it can (as far as can be told before connecting). */
export async function targetProblem(raw: string, allowPrivate: boolean): Promise<string | undefined> {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return 'url is not an absolute URL';
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return 'url must be http or https';
  if (url.username || url.password) return 'url must not carry credentials';
  if (allowPrivate) return undefined;
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (net.isIP(host)) return isPrivateAddress(host) ? `url points at a private or loopback address (${host})` : undefined;
  if (host === 'localhost' || host.endsWith('.localhost')) return 'url points at a loopback name';
  // A name that does not resolve now may later: delivery checks again after its own lookup.
  const addresses = await dns.promises.lookup(host, { all: true, verbatim: true }).catch(() => []);
  const inward = addresses.find((a) => isPrivateAddress(a.address));
  return inward ? `url resolves to a private or loopback address (${inward.address})` : undefined;
}

/**
 * `lookup` for http.request: resolves as usual, then refuses a private address, so the connection is made to the
 * address that was checked (no second lookup that could answer otherwise).
 */
export function guardedLookup(allowPrivate: boolean): net.LookupFunction {
  return (hostname, options, callback) => {
    dns.lookup(hostname, { ...options, all: true }, (error, addresses) => {
      if (error) return callback(error, '', 0);
      const list = addresses as dns.LookupAddress[];
      const usable = allowPrivate ? list : list.filter((a) => !isPrivateAddress(a.address));
      if (usable.length === 0) {
        return callback(new Error(`${hostname} resolves only to private or loopback addresses`), '', 0);
      }
      if ((options as { all?: boolean }).all) return (callback as unknown as (e: null, a: dns.LookupAddress[]) => void)(null, usable);
      callback(null, usable[0]!.address, usable[0]!.family);
    });
  };
}
