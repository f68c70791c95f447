import { describe, expect, it } from "vitest";
import { createTtlCache } from "../../../functions/_shared/cache/ttl-cache.ts";

function clock(start = 0) {
  let t = start;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

describe("createTtlCache", () => {
  it("loads once for many concurrent misses of one key", async () => {
    let loads = 0;
    const cache = createTtlCache({
      ttlMs: 1000,
      load: async (k: string) => {
        loads++;
        await new Promise((r) => setTimeout(r, 20));
        return k.toUpperCase();
      },
    });
    const results = await Promise.all(Array.from({ length: 100 }, () => cache.get("a")));
    expect(loads).toBe(1);
    expect(new Set(results.map((r) => r.value))).toEqual(new Set(["A"]));
    expect(cache.stats().loads).toBe(1);
  });

  it("serves hits until the TTL passes, then reloads", async () => {
    const c = clock();
    let version = 0;
    const cache = createTtlCache({ ttlMs: 300_000, now: c.now, load: async () => ++version });
    expect(await cache.get("k")).toEqual({ value: 1, source: "miss" });
    c.advance(299_999);
    expect(await cache.get("k")).toEqual({ value: 1, source: "hit" });
    c.advance(1);
    expect(await cache.get("k")).toEqual({ value: 2, source: "miss" });
  });

  it("serves the last good value when a reload fails, and throws when there is none", async () => {
    const c = clock();
    let fail = false;
    const cache = createTtlCache({
      ttlMs: 10,
      now: c.now,
      load: async (k: string) => {
        if (fail) throw new Error("database down");
        return `${k}-v1`;
      },
    });
    await cache.get("x");
    fail = true;
    c.advance(11);
    expect(await cache.get("x")).toEqual({ value: "x-v1", source: "stale" });
    await expect(cache.get("y")).rejects.toThrow("database down");
    expect(cache.stats().staleServed).toBe(1);
  });

  it("keeps negative answers for their shorter TTL", async () => {
    const c = clock();
    let exists = false;
    const cache = createTtlCache<string, string | null>({
      ttlMs: 300_000,
      negativeTtlMs: 60_000,
      isNegative: (v) => v === null,
      now: c.now,
      load: async () => (exists ? "config" : null),
    });
    expect((await cache.get("n")).value).toBeNull();
    exists = true;
    c.advance(59_999);
    expect((await cache.get("n")).value).toBeNull();
    c.advance(1);
    expect((await cache.get("n")).value).toBe("config");
  });

  it("refuses a non-positive TTL", () => {
    expect(() => createTtlCache({ ttlMs: 0, load: async () => 1 })).toThrow(/ttlMs/);
  });
});
