// The client address a request came from, read from the one header the deployment says its proxy
// sets. Nothing is guessed: with TRUSTED_IP_HEADER=none (the default) the address is unknown, so an
// allow-list admits nobody and the per-IP rate limit is skipped. Which header Supabase's gateway
// guarantees is not documented (see docs/security.md); set it once you have checked your own setup.
//
//   x-forwarded-for   a comma-separated list; TRUSTED_IP_HOP=n takes the n-th entry from the right
//                     (1 = the address the nearest trusted proxy saw and appended)
//   cf-connecting-ip  one address written by Cloudflare
//   x-real-ip         one address written by nginx-style proxies
import { formatIp, type IpAddress, parseIp } from "./ip.ts";

export const TRUSTED_IP_HEADERS = ["none", "x-forwarded-for", "cf-connecting-ip", "x-real-ip"] as const;
export type TrustedIpHeader = (typeof TRUSTED_IP_HEADERS)[number];

export interface ClientIpOptions {
  header: TrustedIpHeader;
  /** For x-forwarded-for: which entry from the right to trust, 1 or more. */
  hop?: number;
}

export interface ClientIp {
  address: IpAddress;
  /** Canonical text (IPv4 dotted quad, RFC 5952 IPv6): the form used in rate-limit keys and logs. */
  text: string;
}

export type ClientIpResolver = (req: Request) => ClientIp | null;

export function createClientIpResolver(options: ClientIpOptions): ClientIpResolver {
  const { header } = options;
  const hop = options.hop ?? 1;
  if (!TRUSTED_IP_HEADERS.includes(header)) throw new Error(`createClientIpResolver: unknown header ${header}`);
  if (!Number.isInteger(hop) || hop < 1 || hop > 16) throw new Error("createClientIpResolver: hop must be 1 to 16");
  return function resolveClientIp(req: Request): ClientIp | null {
    if (header === "none") return null;
    const value = req.headers.get(header);
    if (!value || value.length > 2048) return null;
    let candidate: string;
    if (header === "x-forwarded-for") {
      // Repeated headers arrive joined with ", ", which is the same list.
      const parts = value.split(",").map((p) => p.trim());
      if (parts.length < hop) return null;
      candidate = parts[parts.length - hop];
    } else {
      // A single-address header that holds a list was not written by the proxy alone.
      if (value.includes(",")) return null;
      candidate = value.trim();
    }
    const address = parseIp(candidate);
    return address ? { address, text: formatIp(address) } : null;
  };
}
