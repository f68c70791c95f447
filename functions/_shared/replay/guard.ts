// Replay protection beyond the timestamp window: a state-changing event's id is claimed once per
// scope in public.replay_guard (primary key (scope, id), an expiry). A replay inside the window finds
// the claim and does nothing; the caller answers 200 with `duplicate: true` so the sender stops
// retrying. The ttl must cover the signature tolerance in both directions (2 × 300 s), hence 600 s.
//
//   const guard = createReplayGuard(sql);
//   if (!(await guard.claim("telnyx", eventId))) return jsonResponse({ ok: true, duplicate: true });
//
// When the event is also written to a table, prefer one SQL function that claims and inserts in the
// same transaction (see public.ingest_integration_event), so a failed insert releases the claim.
import type { Sql } from "../db/client.ts";

export const DEFAULT_REPLAY_TTL_SECONDS = 600;
const SCOPE = /^[A-Za-z0-9_.:-]{1,100}$/;

export interface ReplayGuard {
  /** True the first time `id` is seen in `scope` (within the ttl); false for a replay. */
  claim(scope: string, id: string, ttlSeconds?: number): Promise<boolean>;
}

export function createReplayGuard(sql: Sql, options: { ttlSeconds?: number } = {}): ReplayGuard {
  const defaultTtl = options.ttlSeconds ?? DEFAULT_REPLAY_TTL_SECONDS;
  if (!Number.isInteger(defaultTtl) || defaultTtl < 1) throw new Error("createReplayGuard: ttlSeconds must be >= 1");
  return {
    async claim(scope, id, ttlSeconds = defaultTtl) {
      if (!SCOPE.test(scope)) throw new Error("ReplayGuard.claim: scope must be 1-100 letters, digits, _ . : -");
      if (typeof id !== "string" || id.length === 0 || id.length > 300) {
        throw new Error("ReplayGuard.claim: id must be 1-300 characters");
      }
      const [row] = await sql<{ fresh: boolean }[]>`
        select public.claim_replay(${scope}, ${id}, ${ttlSeconds}::int) as fresh`;
      return row.fresh;
    },
  };
}
