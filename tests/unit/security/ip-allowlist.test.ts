// Strict IP parsing, allow-lists and the trusted client-IP header.
import { describe, expect, it } from "vitest";
import { isAllowed, parseAllowList } from "../../../functions/_shared/net/allowlist.ts";
import { createClientIpResolver } from "../../../functions/_shared/net/client-ip.ts";
import { formatIp, parseIp, parseIpRange } from "../../../functions/_shared/net/ip.ts";

const req = (headers: Record<string, string>) => new Request("http://x/", { headers });

describe("parseIp", () => {
  it("accepts canonical IPv4 and IPv6 and unmaps IPv4-mapped IPv6", () => {
    expect(formatIp(parseIp("10.0.0.1")!)).toBe("10.0.0.1");
    expect(formatIp(parseIp("2001:DB8::1")!)).toBe("2001:db8::1");
    expect(parseIp("::ffff:10.0.0.1")!.kind()).toBe("ipv4");
    expect(formatIp(parseIp("::ffff:10.0.0.1")!)).toBe("10.0.0.1");
    expect(formatIp(parseIp("::ffff:a00:1")!)).toBe("10.0.0.1");
    expect(formatIp(parseIp("0.0.0.0")!)).toBe("0.0.0.0");
  });

  it("refuses octal, hex, short, padded and decorated forms", () => {
    for (const bad of [
      "010.0.0.5", "0x0a.0.0.1", "0xa.0.0.1", "10.0.0.01", "10.1", "167772161", "1.2.3",
      "::ffff:010.0.0.5", "::ffff:0x0a.0.0.1", "fe80::1%eth0", "[::1]", "1.2.3.4:80", " 10.0.0.1",
      "10.0.0.1 ", "256.0.0.1", "", "unknown", "1.2.3.4/32", "::ffff:10.0.0.1%1", "١٠.0.0.1",
    ]) {
      expect(parseIp(bad), bad).toBeNull();
    }
  });
});

describe("allow-lists", () => {
  const list = parseAllowList(["10.0.0.0/8", "2001:db8::/32", "203.0.113.7"]);

  it("allows addresses inside the ranges, in either spelling", () => {
    expect(isAllowed(list, "10.1.2.3")).toBe(true);
    expect(isAllowed(list, "::ffff:10.0.0.1")).toBe(true);
    expect(isAllowed(list, "2001:db8:1::5")).toBe(true);
    expect(isAllowed(list, "203.0.113.7")).toBe(true);
  });

  it("refuses addresses outside, of the other family, legacy forms and unknown ones", () => {
    expect(isAllowed(list, "11.0.0.1")).toBe(false);
    expect(isAllowed(list, "203.0.113.8")).toBe(false);
    expect(isAllowed(list, "2001:db9::1")).toBe(false);
    // 010.0.0.5 would be 8.0.0.5 to ipaddr.js and 10.0.0.5 to a human: neither reading is trusted.
    expect(isAllowed(list, "010.0.0.5")).toBe(false);
    expect(isAllowed(list, "0x0a.0.0.1")).toBe(false);
    expect(isAllowed(list, null)).toBe(false);
  });

  it("an empty list allows everyone, even an unknown address", () => {
    const open = parseAllowList([]);
    expect(isAllowed(open, null)).toBe(true);
    expect(isAllowed(open, "198.51.100.1")).toBe(true);
  });

  it("reads IPv4-mapped IPv6 ranges (as Postgres prints cidr) as IPv4 ranges", () => {
    const mapped = parseAllowList(["::ffff:10.0.0.0/104"]);
    expect(isAllowed(mapped, "10.9.9.9")).toBe(true);
    expect(isAllowed(mapped, "11.0.0.1")).toBe(false);
    expect(parseIpRange("::ffff:10.0.0.0/95")).toBeNull();
  });

  it("refuses malformed entries outright", () => {
    for (const bad of ["010.0.0.0/8", "10.0.0.0/33", "10.0.0.0/08", "2001:db8::/129", "10.0.0.0/", "any", "0x0a.0.0.0/8"]) {
      expect(() => parseAllowList([bad]), bad).toThrow(/not an IP address/);
    }
  });

  it("a /0 range allows its whole family only", () => {
    const v4 = parseAllowList(["0.0.0.0/0"]);
    expect(isAllowed(v4, "198.51.100.1")).toBe(true);
    expect(isAllowed(v4, "2001:db8::1")).toBe(false);
  });
});

describe("client IP from the configured header", () => {
  it("none: never reads a header", () => {
    const resolve = createClientIpResolver({ header: "none" });
    expect(resolve(req({ "x-forwarded-for": "1.2.3.4", "x-real-ip": "1.2.3.4" }))).toBeNull();
  });

  it("x-forwarded-for: takes the configured hop from the right, ignoring what the client prepended", () => {
    const h = { "x-forwarded-for": "6.6.6.6, 198.51.100.7, 10.0.0.2" };
    expect(createClientIpResolver({ header: "x-forwarded-for", hop: 1 })(req(h))?.text).toBe("10.0.0.2");
    expect(createClientIpResolver({ header: "x-forwarded-for", hop: 2 })(req(h))?.text).toBe("198.51.100.7");
    expect(createClientIpResolver({ header: "x-forwarded-for", hop: 4 })(req(h))).toBeNull();
  });

  it("x-forwarded-for: a malformed trusted hop gives no address rather than a guess", () => {
    const resolve = createClientIpResolver({ header: "x-forwarded-for", hop: 1 });
    expect(resolve(req({ "x-forwarded-for": "1.2.3.4, 010.0.0.5" }))).toBeNull();
    expect(resolve(req({ "x-forwarded-for": "1.2.3.4, unknown" }))).toBeNull();
    expect(resolve(req({ "x-forwarded-for": "::ffff:10.0.0.1" }))?.text).toBe("10.0.0.1");
  });

  it("single-address headers: one canonical address, nothing else, and only the configured header", () => {
    const cf = createClientIpResolver({ header: "cf-connecting-ip" });
    expect(cf(req({ "cf-connecting-ip": "2001:db8::7" }))?.text).toBe("2001:db8::7");
    expect(cf(req({ "cf-connecting-ip": "1.2.3.4, 5.6.7.8" }))).toBeNull();
    expect(cf(req({ "x-real-ip": "1.2.3.4" }))).toBeNull();
    const real = createClientIpResolver({ header: "x-real-ip" });
    expect(real(req({ "x-real-ip": "0x0a.0.0.1" }))).toBeNull();
  });

  it("refuses a configuration it does not know", () => {
    expect(() => createClientIpResolver({ header: "forwarded" as never })).toThrow();
    expect(() => createClientIpResolver({ header: "x-forwarded-for", hop: 0 })).toThrow();
  });
});
