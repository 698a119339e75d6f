/**
 * Lists of IP addresses and CIDR subnets (settings `superuserIPs`, `rateLimits.excludedIPs`):
 * what a valid entry is (Go's `netip.ParseAddr` / `ParsePrefix`, as PocketBase checks them) and
 * whether an address is in a list. A list is compiled once into a `BlockList` and kept while the
 * (frozen) settings array it came from lives, so a request pays one lookup, not a parse per entry.
 */
import { BlockList, isIP } from 'node:net';

/** `::ffff:10.0.0.1` (an IPv4 client on a dual-stack socket) is `10.0.0.1`. */
export function normalizeIp(ip: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  return mapped ? mapped[1] : ip;
}

/** 4, 6, or 0 for anything that is not one plain address (zones such as `%eth0` are refused). */
export function ipFamily(value: string): 0 | 4 | 6 {
  if (value.includes('%')) return 0;
  return isIP(value) as 0 | 4 | 6;
}

function parseSubnet(value: string): { address: string; prefix: number; family: 4 | 6 } | null {
  const slash = value.indexOf('/');
  if (slash === -1) return null;
  const address = value.slice(0, slash);
  const bits = value.slice(slash + 1);
  const family = ipFamily(address);
  if (family === 0 || !/^\d{1,3}$/.test(bits)) return null;
  const prefix = Number(bits);
  return prefix <= (family === 4 ? 32 : 128) ? { address, prefix, family } : null;
}

/** An individual IPv4/IPv6 address or a CIDR subnet (`10.0.0.0/8`, `fd00::/8`). */
export function isIpOrSubnet(value: string): boolean {
  return ipFamily(value) !== 0 || parseSubnet(value) !== null;
}

const compiled = new WeakMap<readonly string[], BlockList>();

function compile(list: readonly string[]): BlockList {
  const blocks = new BlockList();
  for (const entry of list) {
    const subnet = parseSubnet(entry);
    if (subnet) blocks.addSubnet(subnet.address, subnet.prefix, subnet.family === 4 ? 'ipv4' : 'ipv6');
    else {
      const family = ipFamily(entry);
      // Entries were checked when saved; anything else is skipped rather than thrown at a request.
      if (family !== 0) blocks.addAddress(entry, family === 4 ? 'ipv4' : 'ipv6');
    }
  }
  return blocks;
}

/** Whether `ip` is one of the addresses or inside one of the subnets of `list` (false for an empty list or address). */
export function ipInList(list: readonly string[], ip: string): boolean {
  if (list.length === 0 || ip === '') return false;
  const address = normalizeIp(ip);
  const family = ipFamily(address);
  if (family === 0) return false;
  let blocks = compiled.get(list);
  if (!blocks) {
    blocks = compile(list);
    // Only frozen arrays (the settings in force) are cached: a mutable one could change under the key.
    if (Object.isFrozen(list)) compiled.set(list, blocks);
  }
  return blocks.check(address, family === 4 ? 'ipv4' : 'ipv6');
}
