// The Postgres store: one call to public.rate_limit_hit() (an atomic upsert per key on an UNLOGGED
// table, all keys or none counted), one round trip. Postgres is the clock.
import type { Sql } from "../db/client.ts";
import type { RateLimitStore, StoreResult } from "./types.ts";

interface RawResult {
  allowed: boolean;
  elapsed_ms: number;
  window_ms: number;
  counts: { key: string; limit: number; previous: number; current: number }[];
}

export function createPostgresStore(sql: Sql): RateLimitStore {
  return {
    name: "postgres",
    async hit(keys, limits, windowSeconds): Promise<StoreResult> {
      // Arrays travel as JSON text: postgres.js cannot serialise array parameters on a connection's
      // first query (before it has loaded the server's types), and a fresh isolate's first query is
      // exactly that.
      const [row] = await sql<{ r: RawResult }[]>`
        select public.rate_limit_hit(
          array(select jsonb_array_elements_text(${JSON.stringify(keys)}::text::jsonb)),
          array(select jsonb_array_elements_text(${JSON.stringify(limits)}::text::jsonb)::int),
          ${windowSeconds}::int) as r`;
      const r = row.r;
      // The function answers in key order (its lock order); put the counts back in the caller's order.
      const byKey = new Map(r.counts.map((c) => [c.key, c]));
      return {
        allowed: r.allowed,
        elapsedMs: Number(r.elapsed_ms),
        windowMs: Number(r.window_ms),
        counts: keys.map((k) => {
          const c = byKey.get(k);
          return { previous: Number(c?.previous ?? 0), current: Number(c?.current ?? 0) };
        }),
      };
    },
  };
}
