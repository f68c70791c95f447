// IP allow-lists: a list of addresses and CIDR ranges (integrations.allowed_ips). An empty list allows
// every address; a non-empty list allows only the addresses it covers, and an unknown client address
// (no trusted header configured, or a malformed one) is never allowed.
import { type IpAddress, ipInRange, type IpRange, parseIp, parseIpRange } from "./ip.ts";

export interface AllowList {
  readonly ranges: readonly IpRange[];
  /** True when the list is empty, i.e. every address is allowed. */
  readonly open: boolean;
}

/** Parses allow-list entries strictly; throws naming the first entry that is not an address or range. */
export function parseAllowList(entries: readonly string[] | null | undefined): AllowList {
  const ranges: IpRange[] = [];
  for (const entry of entries ?? []) {
    const range = parseIpRange(String(entry).trim());
    if (!range) throw new Error(`Allow-list entry is not an IP address or CIDR range: ${JSON.stringify(entry)}`);
    ranges.push(range);
  }
  return { ranges, open: ranges.length === 0 };
}

/** Whether `ip` (text or parsed, null when unknown) may call. */
export function isAllowed(list: AllowList, ip: string | IpAddress | null): boolean {
  if (list.open) return true;
  if (ip === null) return false;
  const address = typeof ip === "string" ? parseIp(ip) : ip;
  if (!address) return false;
  return list.ranges.some((range) => ipInRange(address, range));
}
