// Strict IP address and CIDR parsing over ipaddr.js, for allow-lists and client-IP headers.
//
// ipaddr.js on its own accepts legacy IPv4 forms that no proxy writes and that read differently
// elsewhere: "010.0.0.5" is octal (8.0.0.5), "0x0a.0.0.1" is hex, "1.2.3" is 1.2.0.3, and inside
// IPv6 ("::ffff:010.0.0.5") the same text is read as decimal. Here an IPv4 address is four decimal
// parts without leading zeros (ipaddr.IPv4.isValidFourPartDecimal), in IPv6 too; zone ids, brackets,
// ports and whitespace are refused; IPv4-mapped IPv6 (::ffff:10.0.0.1) becomes the IPv4 address, so
// one allow-list entry covers both spellings.
import ipaddr from "ipaddr.js";

export type IpAddress = ipaddr.IPv4 | ipaddr.IPv6;
export type IpRange = { address: IpAddress; prefix: number };

const PREFIX = /^(0|[1-9][0-9]{0,2})$/;

/** Parses one address strictly; null when it is not a canonical IPv4 or IPv6 address. */
export function parseIp(text: string): IpAddress | null {
  if (typeof text !== "string" || text.length === 0 || text.length > 64) return null;
  if (text.includes(":")) {
    // IPv6: no zone id, no brackets or port, and an embedded IPv4 tail must be four-part decimal.
    if (!/^[0-9A-Fa-f:.]+$/.test(text)) return null;
    if (text.includes(".")) {
      const tail = text.slice(text.lastIndexOf(":") + 1);
      if (!ipaddr.IPv4.isValidFourPartDecimal(tail)) return null;
    }
    if (!ipaddr.IPv6.isValid(text)) return null;
    const v6 = ipaddr.IPv6.parse(text);
    return v6.isIPv4MappedAddress() ? v6.toIPv4Address() : v6;
  }
  if (!ipaddr.IPv4.isValidFourPartDecimal(text)) return null;
  return ipaddr.IPv4.parse(text);
}

/**
 * Parses an address or CIDR range ("10.0.0.0/8", "2001:db8::/32", "203.0.113.7"). A bare address is
 * a /32 or /128. An IPv4-mapped IPv6 range with a prefix of 96 or more becomes the IPv4 range.
 */
export function parseIpRange(text: string): IpRange | null {
  if (typeof text !== "string") return null;
  const slash = text.indexOf("/");
  const addressText = slash < 0 ? text : text.slice(0, slash);
  const prefixText = slash < 0 ? null : text.slice(slash + 1);
  if (prefixText !== null && !PREFIX.test(prefixText)) return null;
  // The address part is parsed without unmapping so that the prefix still refers to 128 bits.
  const mappedV6 = addressText.includes(":") && parseIp(addressText)?.kind() === "ipv4";
  const address = parseIp(addressText);
  if (!address) return null;
  const bits = mappedV6 ? 128 : address.kind() === "ipv4" ? 32 : 128;
  let prefix = prefixText === null ? bits : Number(prefixText);
  if (prefix > bits) return null;
  if (mappedV6) {
    // ::ffff:0:0/96 and longer describe IPv4 space; shorter prefixes mix in other IPv6 addresses.
    if (prefix < 96) return null;
    prefix -= 96;
  }
  return { address, prefix };
}

/** True when `address` lies in `range`; different families never match (and never throw). */
export function ipInRange(address: IpAddress, range: IpRange): boolean {
  if (address.kind() !== range.address.kind()) return false;
  return address.match(range.address, range.prefix);
}

export function formatIp(address: IpAddress): string {
  return address.kind() === "ipv6" ? (address as ipaddr.IPv6).toRFC5952String() : address.toString();
}
