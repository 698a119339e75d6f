/**
 * Which IP addresses an outgoing request may reach without being trusted: public unicast only.
 * The classification is ipaddr.js's table of special-purpose ranges (IANA registries), not a
 * hand-written list: anything it names (private, loopback, link-local, carrier-grade NAT,
 * benchmarking, reserved, multicast, broadcast, unique local, site-local, discard…) is refused,
 * and only its default `unicast` passes. IPv6 forms that carry an IPv4 address are judged by
 * that address, so `::ffff:127.0.0.1`, `64:ff9b::7f00:1` or `2002:7f00:1::` are loopback.
 */
import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';

/** IPv6 ranges whose addresses stand for an IPv4 host: reachable as that host is. */
const CARRY_IPV4 = new Set(['ipv4Mapped', 'rfc6145', '6to4', 'teredo']);

const v4 = (high: number, low: number): ipaddr.IPv4 => new ipaddr.IPv4([high >> 8, high & 0xff, low >> 8, low & 0xff]);

/** The IPv4 addresses an IPv6 address embeds (empty when it embeds none); null when its range is not public. */
function embeddedIPv4(address: ipaddr.IPv6): ipaddr.IPv4[] | null {
  const p = address.parts;
  const range = address.range();
  if (range === 'rfc6052') {
    // RFC 6052 well-known prefix 64:ff9b::/96 carries the IPv4 address in its last 32 bits; the
    // RFC 8215 local-use prefix 64:ff9b:1::/48 maps to whatever the local network chooses.
    return p[1] === 0xff9b && p[2] === 0 && p[3] === 0 && p[4] === 0 && p[5] === 0 ? [v4(p[6]!, p[7]!)] : null;
  }
  if (!CARRY_IPV4.has(range)) {
    // IPv4-compatible addresses (::a.b.c.d, RFC 4291 §2.5.5.1, deprecated) are not in the table:
    // ipaddr.js calls them unicast, yet stacks still route some of them to the IPv4 host.
    if (range === 'unicast' && p.slice(0, 6).every((x) => x === 0)) return [v4(p[6]!, p[7]!)];
    return range === 'unicast' ? [] : null;
  }
  // RFC 3056: 2002:AABB:CCDD::/48 is the 6to4 site of AA.BB.CC.DD.
  if (range === '6to4') return [v4(p[1]!, p[2]!)];
  // RFC 4380 §4: 2001:0:SSSS:SSSS:flags:port:CCCC:CCCC, the client's address with its bits inverted.
  if (range === 'teredo') return [v4(p[2]!, p[3]!), v4(~p[6]! & 0xffff, ~p[7]! & 0xffff)];
  return [v4(p[6]!, p[7]!)];
}

/** Whether `address` (an IP literal in canonical text) is a public unicast address. Anything else is false. */
export function isPublicAddress(address: string): boolean {
  // net.isIP first: ipaddr.js alone also accepts forms like `0x7f.1` that no resolver answers.
  const family = isIP(address);
  if (family === 0) return false;
  const parsed = ipaddr.parse(address);
  if (parsed.kind() === 'ipv4') return parsed.range() === 'unicast';
  const embedded = embeddedIPv4(parsed as ipaddr.IPv6);
  return embedded !== null && embedded.every((a) => a.range() === 'unicast');
}
