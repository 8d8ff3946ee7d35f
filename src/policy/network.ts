/**
 * Session binding (issue 8 §4): the viewer's network, /24 for IPv4 and /48 for IPv6, as canonical
 * CIDR text. A policy with `bindToViewerNetwork` binds grants to this string, so a playlist that
 * leaks keeps working only from the same network.
 *
 * Trade-off (documented for operators): a viewer whose address changes network mid-session —
 * a phone moving from Wi-Fi to cellular, carrier-grade NAT pools, some IPv6 privacy setups that
 * change the /48 (rare: /48 is usually the site prefix) — is refused on the next child request
 * and must reload the playlist with its token. A /24 or /48 still admits the neighbours in that
 * prefix; this narrows a leak, it does not identify a viewer.
 */
import { POLICY_LIMITS } from '../config';
import { formatIp, maskBytes, parseIp } from './ip';

export class InvalidViewerAddress extends Error {
  readonly code = 'ERR_INVALID_VIEWER_ADDRESS';
  constructor() {
    super('The viewer address is not an IPv4 or IPv6 address.');
  }
}

/**
 * The canonical network prefix of a viewer address. IPv4-mapped IPv6 addresses count as IPv4.
 * Throws InvalidViewerAddress for anything that is not an address (the gate then refuses rather
 * than binding to a meaningless string).
 *
 * @example
 * viewerNetwork('203.0.113.77'); // '203.0.113.0/24'
 * viewerNetwork('2001:DB8:1:2::5'); // '2001:db8:1::/48'
 */
export function viewerNetwork(ip: string): string {
  const address = parseIp(ip.trim());
  if (!address) throw new InvalidViewerAddress();
  const length = address.version === 4 ? POLICY_LIMITS.viewerNetworkPrefixV4 : POLICY_LIMITS.viewerNetworkPrefixV6;
  return `${formatIp({ version: address.version, bytes: maskBytes(address.bytes, length) })}/${length}`;
}

/** The viewer's address: CF-Connecting-IP, which Cloudflare's edge sets on every request. */
export const viewerIp = (request: Request) => request.headers.get('CF-Connecting-IP');

/**
 * The viewer network of a request (CF-Connecting-IP, set by Cloudflare's edge), or undefined when
 * the address is absent or not an IP address.
 */
export function networkOfRequest(request: Request): string | undefined {
  const ip = viewerIp(request);
  if (!ip) return undefined;
  try {
    return viewerNetwork(ip);
  } catch (error) {
    if (error instanceof InvalidViewerAddress) return undefined;
    throw error;
  }
}
