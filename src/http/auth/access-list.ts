// Address matching for API access lists: exact addresses and CIDR blocks, IPv4 and IPv6.
import { BlockList, isIP } from 'node:net';
import type { AccessListEntry } from '../../domain/identity/model.js';

/** The socket's address without the IPv4-mapped IPv6 prefix. */
export function normalizeAddress(address: string | undefined): string {
  if (!address) return '';
  return address.startsWith('::ffff:') && isIP(address.slice(7)) === 4 ? address.slice(7) : address;
}

export function isOnAccessList(address: string, entry: AccessListEntry): boolean {
  const family = isIP(address) === 6 ? 'ipv6' : 'ipv4';
  if (entry.ipAddress) return entry.ipAddress === address;
  if (!entry.cidrBlock) return false;
  const [network, bits] = entry.cidrBlock.split('/');
  const list = new BlockList();
  try {
    list.addSubnet(network!, Number(bits), isIP(network!) === 6 ? 'ipv6' : 'ipv4');
    return list.check(address, family);
  } catch {
    return false;
  }
}
