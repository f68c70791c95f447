// The shared rate-limit stores on real Postgres and real Redis: atomic, all-or-nothing, no lost
// counts under concurrency; and the fallback when a store is unreachable, stalled or locked.
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createPostgresStore, createRateLimiter, createRedisStore } from "../../../functions/_shared/ratelimit/index.ts";
import type { RateLimitStore } from "../../../functions/_shared/ratelimit/types.ts";
import { listBreakers, resetBreakers } from "../../../functions/_shared/resilience/breakers.ts";
import { createTestDatabase, type TestDatabase } from "../../support/database.ts";
import { closedPort, REDIS_URL, redisAvailable, stalledServer } from "./support.ts";

let db: TestDatabase;
const hasRedis = await redisAvailable();
const redisStores: RateLimitStore[] = [];

beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  for (const s of redisStores) await s.close?.();
  await db?.drop();
});

const stores: [string, () => RateLimitStore][] = [
  ["postgres", () => createPostgresStore(db.sql)],
  ...(hasRedis
    ? [["redis", () => {
      const s = createRedisStore(REDIS_URL, { prefix: `sbtest:${crypto.randomUUID()}:` });
      redisStores.push(s);
      return s;
    }] as [string, () => RateLimitStore]]
    : []),
];
if (!hasRedis) console.warn(`Redis not reachable at ${REDIS_URL}: the Redis store cases are skipped`);

describe.each(stores)("%s store", (_name, make) => {
  it("admits up to the limit and counts only admitted requests", async () => {
    const store = make();
    const key = `k-${crypto.randomUUID()}`;
    const results = [];
    for (let i = 0; i < 5; i++) results.push(await store.hit([key], [3], 60));
    expect(results.map((r) => r.allowed)).toEqual([true, true, true, false, false]);
    expect(results[4].counts[0].current).toBe(3);
  });

  it("counts against every key or none", async () => {
    const store = make();
    const a = `a-${crypto.randomUUID()}`;
    const b = `b-${crypto.randomUUID()}`;
    expect((await store.hit([a, b], [1, 10], 60)).allowed).toBe(true);
    const refused = await store.hit([a, b], [1, 10], 60);
    expect(refused.allowed).toBe(false);
    // b was not charged for the refused request: in the caller's order, b has 1.
    expect(refused.counts).toEqual([{ previous: 0, current: 1 }, { previous: 0, current: 1 }]);
    expect((await store.hit([b], [10], 60)).counts[0].current).toBe(2);
  });

  it("loses no count and admits exactly the limit under concurrency", async () => {
    const store = make();
    const key = `c-${crypto.randomUUID()}`;
    const results = await Promise.all(Array.from({ length: 120 }, () => store.hit([key], [100], 60)));
    expect(results.filter((r) => r.allowed)).toHaveLength(100);
    expect(Math.max(...results.map((r) => r.counts[0].current))).toBe(100);
  });
});

describe("fallback to the in-isolate limiter", () => {
  it("decides at once when Postgres is on a closed port", async () => {
    resetBreakers();
    const port = await closedPort();
    const dead = postgres(`postgres://postgres@127.0.0.1:${port}/x`, { max: 1, connect_timeout: 2, onnotice: () => {} });
    const limiter = createRateLimiter({ store: createPostgresStore(dead), budgetMs: 50 });
    const decisions = [];
    for (let i = 0; i < 4; i++) {
      const started = performance.now();
      decisions.push(await limiter.check([{ scope: "ip", key: "192.0.2.1", limit: 2 }]));
      expect(performance.now() - started).toBeLessThan(1000);
    }
    expect(decisions.map((d) => [d.allowed, d.decidedBy])).toEqual([
      [true, "memory"], [true, "memory"], [false, "memory"], [false, "memory"],
    ]);
    await dead.end({ timeout: 0 });
  });

  it("decides within its budget when Postgres accepts connections and never answers, then stops asking", async () => {
    resetBreakers();
    const stalled = await stalledServer();
    const hung = postgres(`postgres://postgres@127.0.0.1:${stalled.port}/x`, { max: 1, connect_timeout: 30, onnotice: () => {} });
    const limiter = createRateLimiter({ store: createPostgresStore(hung), budgetMs: 50, breakerThreshold: 3 });
    for (let i = 0; i < 5; i++) {
      const started = performance.now();
      const d = await limiter.check([{ scope: "ip", key: "192.0.2.2", limit: 10 }]);
      expect(d.decidedBy).toBe("memory");
      expect(performance.now() - started).toBeLessThan(1000);
    }
    expect(listBreakers().find((b) => b.name === "ratelimit:postgres")?.state).toBe("open");
    await stalled.close();
    await hung.end({ timeout: 0 }).catch(() => {});
  });

  it("falls back when a row lock is held: lock_timeout frees the call on the server too", async () => {
    resetBreakers();
    const key = `60:ip:locked-${crypto.randomUUID()}`;
    await db.sql`select public.rate_limit_hit(${[key]}::text[], ${[100]}::int[], 60)`;
    const holder = postgres(db.url, { max: 1, onnotice: () => {} });
    const other = postgres(db.url, { max: 1, onnotice: () => {} });
    let release!: () => void;
    const held = holder.begin(async (tx) => {
      await tx`update public.rate_limit_counters set count = count where key = ${key}`;
      await new Promise<void>((r) => (release = r));
    });
    await new Promise((r) => setTimeout(r, 100));
    // Straight to the function: the server gives up after its lock_timeout (50 ms), not after the lock.
    const started = performance.now();
    await expect(other`select public.rate_limit_hit(${[key]}::text[], ${[100]}::int[], 60)`).rejects.toMatchObject({ code: "55P03" });
    expect(performance.now() - started).toBeLessThan(1000);
    // Through the limiter: the in-isolate limiter decides.
    const limiter = createRateLimiter({ store: createPostgresStore(other), budgetMs: 200 });
    const d = await limiter.check([{ scope: "ip", key: key.slice("60:ip:".length), limit: 100 }]);
    expect(d.decidedBy).toBe("memory");
    release();
    await held;
    await holder.end();
    await other.end();
  });

  it.skipIf(!hasRedis)("decides within its budget when Redis is stalled", async () => {
    resetBreakers();
    const stalled = await stalledServer();
    const store = createRedisStore(`redis://127.0.0.1:${stalled.port}`);
    const limiter = createRateLimiter({ store, budgetMs: 50 });
    for (let i = 0; i < 3; i++) {
      const started = performance.now();
      expect((await limiter.check([{ scope: "ip", key: "192.0.2.3", limit: 10 }])).decidedBy).toBe("memory");
      expect(performance.now() - started).toBeLessThan(1000);
    }
    await store.close?.();
    await stalled.close();
  });

  it.skipIf(!hasRedis)("uses Redis again once it answers (breaker half-opens and closes)", async () => {
    resetBreakers();
    let broken = true;
    const real = createRedisStore(REDIS_URL, { prefix: `sbtest:${crypto.randomUUID()}:` });
    redisStores.push(real);
    const flaky: RateLimitStore = {
      name: "redis",
      hit: (k, l, w) => (broken ? Promise.reject(new Error("down")) : real.hit(k, l, w)),
    };
    const limiter = createRateLimiter({ store: flaky, budgetMs: 200, breakerThreshold: 2, halfOpenAfterMs: 150 });
    const rules = [{ scope: "ip", key: "192.0.2.4", limit: 10 }];
    expect((await limiter.check(rules)).decidedBy).toBe("memory");
    expect((await limiter.check(rules)).decidedBy).toBe("memory");
    expect(listBreakers().find((b) => b.name === "ratelimit:redis")?.state).toBe("open");
    broken = false;
    await new Promise((r) => setTimeout(r, 200));
    expect((await limiter.check(rules)).decidedBy).toBe("redis");
    expect(listBreakers().find((b) => b.name === "ratelimit:redis")?.state).toBe("closed");
  });
});
