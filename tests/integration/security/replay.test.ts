// The replay guard on real Postgres: one claim per (scope, id) until it expires.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createReplayGuard } from "../../../functions/_shared/replay/guard.ts";
import { createTestDatabase, type TestDatabase } from "../../support/database.ts";

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db?.drop();
});

describe("replay guard", () => {
  it("claims an id once per scope", async () => {
    const guard = createReplayGuard(db.sql);
    expect(await guard.claim("telnyx", "evt-1")).toBe(true);
    expect(await guard.claim("telnyx", "evt-1")).toBe(false);
    expect(await guard.claim("meta", "evt-1")).toBe(true);
  });

  it("lets exactly one of many concurrent claims win", async () => {
    const guard = createReplayGuard(db.sql);
    const results = await Promise.all(Array.from({ length: 20 }, () => guard.claim("race", "evt-2")));
    expect(results.filter(Boolean)).toHaveLength(1);
    const [r] = await db.sql`select count(*)::int as n from public.replay_guard where scope = 'race'`;
    expect(r.n).toBe(1);
  });

  it("claims an expired id again, and pruning removes expired ids only", async () => {
    const guard = createReplayGuard(db.sql);
    expect(await guard.claim("ttl", "evt-3", 1)).toBe(true);
    expect(await guard.claim("ttl", "evt-4", 600)).toBe(true);
    await db.sql`update public.replay_guard set expires_at = now() - interval '1 second' where scope = 'ttl' and id = 'evt-3'`;
    expect(await guard.claim("ttl", "evt-3")).toBe(true);
    await db.sql`update public.replay_guard set expires_at = now() - interval '1 second' where scope = 'ttl' and id = 'evt-3'`;
    const [{ n }] = await db.sql`select public.prune_security_state() as n`;
    expect(n).toBeGreaterThanOrEqual(1);
    const left = await db.sql`select id from public.replay_guard where scope = 'ttl' order by id`;
    expect(left.map((r) => r.id)).toEqual(["evt-4"]);
  });

  it("refuses scopes and ids it cannot store safely", async () => {
    const guard = createReplayGuard(db.sql);
    await expect(guard.claim("bad scope", "x")).rejects.toThrow();
    await expect(guard.claim("s", "")).rejects.toThrow();
    await expect(guard.claim("s", "x".repeat(301))).rejects.toThrow();
  });
});
