// The sliding-window arithmetic, the in-isolate limiter and the RateLimit header fields.
import { describe, expect, it } from "vitest";
import { createMemoryStore } from "../../../functions/_shared/ratelimit/memory-store.ts";
import { createRateLimiter, rateLimitHeaders } from "../../../functions/_shared/ratelimit/limiter.ts";
import type { RateLimitStore } from "../../../functions/_shared/ratelimit/types.ts";
import { admits, secondsUntilAdmitted } from "../../../functions/_shared/ratelimit/window.ts";

describe("sliding window", () => {
  it("admits up to the limit in a fresh window and weighs the previous one", () => {
    expect(admits({ previous: 0, current: 59 }, 60, 0, 60_000)).toBe(true);
    expect(admits({ previous: 0, current: 60 }, 60, 0, 60_000)).toBe(false);
    // Half-way through, half of the previous window still counts: 60 * 0.5 + 29 + 1 = 60.
    expect(admits({ previous: 60, current: 29 }, 60, 30_000, 60_000)).toBe(true);
    expect(admits({ previous: 60, current: 30 }, 60, 30_000, 60_000)).toBe(false);
  });

  it("says when a refused caller may come back", () => {
    // Full current window: wait for the boundary (30 s) and then until the old count has decayed.
    expect(secondsUntilAdmitted({ previous: 0, current: 60 }, 60, 30_000, 60_000)).toBe(31);
    // Room in the current window but the previous weighs too much: 60*(1-(e+t)/60)+30+1 <= 60 → t = 1 s.
    expect(secondsUntilAdmitted({ previous: 60, current: 30 }, 60, 30_000, 60_000)).toBe(1);
  });
});

describe("in-isolate limiter", () => {
  it("refuses the request past the limit, counts against every rule or none", async () => {
    let now = 1_000_000_000_000;
    const limiter = createRateLimiter({ now: () => now });
    for (let i = 0; i < 3; i++) {
      expect((await limiter.check([{ scope: "ip", key: "1.2.3.4", limit: 3 }, { scope: "org", key: "o", limit: 10 }])).allowed).toBe(true);
    }
    const refused = await limiter.check([{ scope: "ip", key: "1.2.3.4", limit: 3 }, { scope: "org", key: "o", limit: 10 }]);
    expect(refused.allowed).toBe(false);
    expect(refused.exceededScope).toBe("ip");
    expect(refused.retryAfterSeconds).toBeGreaterThanOrEqual(1);
    // The refused request did not use the org's quota: 7 more fit for another IP.
    for (let i = 0; i < 7; i++) {
      expect((await limiter.check([{ scope: "ip", key: "5.6.7.8", limit: 100 }, { scope: "org", key: "o", limit: 10 }])).allowed).toBe(true);
    }
    expect((await limiter.check([{ scope: "ip", key: "5.6.7.8", limit: 100 }, { scope: "org", key: "o", limit: 10 }])).allowed).toBe(false);
    // Two windows later everything is forgotten.
    now += 120_000;
    expect((await limiter.check([{ scope: "ip", key: "1.2.3.4", limit: 3 }])).allowed).toBe(true);
  });

  it("keeps memory bounded under a flood of distinct keys", async () => {
    const store = createMemoryStore({ maxKeys: 100 });
    for (let i = 0; i < 1000; i++) await store.hit([`k${i}`], [5], 60);
    expect(store.size()).toBe(100);
  });

  it("decides alone, at once, when the shared store hangs", async () => {
    const hanging: RateLimitStore = { name: "redis", hit: () => new Promise(() => {}) };
    const limiter = createRateLimiter({ store: hanging, budgetMs: 30, breakerThreshold: 2, halfOpenAfterMs: 60_000 });
    const rules = [{ scope: "ip", key: "9.9.9.9", limit: 2 }];
    const first = await limiter.check(rules);
    expect(first).toMatchObject({ allowed: true, decidedBy: "memory" });
    await limiter.check(rules);
    // The breaker is open now: no wait at all, and the local counts still hold the limit.
    const started = performance.now();
    const third = await limiter.check(rules);
    expect(performance.now() - started).toBeLessThan(25);
    expect(third).toMatchObject({ allowed: false, decidedBy: "memory" });
  });
});

describe("RateLimit header fields", () => {
  it("emits RateLimit-Policy and RateLimit as structured lists and Retry-After on refusal", async () => {
    const limiter = createRateLimiter();
    const rules = [{ scope: "integration", key: "i-1", limit: 1 }];
    const ok = await limiter.check(rules);
    const okHeaders = rateLimitHeaders([ok]);
    expect(okHeaders["RateLimit-Policy"]).toBe('"integration";q=1;w=60');
    expect(okHeaders["RateLimit"]).toMatch(/^"integration";r=0;t=\d+$/);
    expect(okHeaders["Retry-After"]).toBeUndefined();
    const refused = rateLimitHeaders([await limiter.check(rules)]);
    const t = Number(/t=(\d+)/.exec(refused["RateLimit"])![1]);
    expect(Number(refused["Retry-After"])).toBeGreaterThanOrEqual(t);
    expect(Number(refused["Retry-After"])).toBeGreaterThanOrEqual(1);
  });
});
