// Which URLs an organisation's alert destination may point at. Organisation members set those URLs
// (table alert_destinations, through the dashboard), and delivery POSTs to them from inside our
// network: without a check, a member could make us call an internal address (a metadata service,
// the database's HTTP API). Organisation destinations must therefore be https to a host name or a
// public address; loopback, private, link-local and other special ranges are refused, as are
// "localhost" names. Redirects are never followed (delivery sets redirect: "manual").
//
// What this cannot see: a public host name that resolves to a private address (DNS is not a Web
// standard, and the edge runtime resolves it inside fetch). The operator's destinations (org_id
// null, writable by the service role only) are trusted and not checked. ALERT_ALLOW_PRIVATE_URLS
// lifts the check for local development and tests.
import { parseIp } from "../net/ip.ts";

export type DestinationUrlProblem = "not_a_url" | "not_https" | "private_address" | "credentials_in_url";

export function checkOrgDestinationUrl(url: string): DestinationUrlProblem | null {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return "not_a_url";
  }
  if (parsed.protocol !== "https:") return "not_https";
  if (parsed.username || parsed.password) return "credentials_in_url";
  const host = parsed.hostname.replace(/^\[|\]$/g, "").toLowerCase();
  if (host === "localhost" || host.endsWith(".localhost") || host.endsWith(".local") || host.endsWith(".internal")) {
    return "private_address";
  }
  const ip = parseIp(host);
  if (ip && ip.range() !== "unicast") return "private_address";
  // A host that is all digits and dots but not a strict IPv4 literal (010.0.0.1, 2130706433) could
  // still be read as an address by a resolver: refuse it rather than guess.
  if (!ip && /^[0-9.]+$/.test(host)) return "private_address";
  return null;
}
