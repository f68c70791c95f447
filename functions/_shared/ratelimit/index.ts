// Rate limiting: see limiter.ts. createRateLimitStore picks the shared store from settings.
import type { Sql } from "../db/client.ts";
import { createPostgresStore } from "./postgres-store.ts";
import { createRedisStore } from "./redis-store.ts";
import type { RateLimitStore } from "./types.ts";

export { createRateLimiter, type RateLimitDecision, rateLimitHeaders, type RateLimiter, type RateLimiterOptions, type RuleOutcome } from "./limiter.ts";
export { createMemoryStore, type MemoryStore } from "./memory-store.ts";
export { createPostgresStore } from "./postgres-store.ts";
export { createRedisStore } from "./redis-store.ts";
export type { RateLimitRule, RateLimitScope, RateLimitStore, StoreResult } from "./types.ts";

export type RateLimitStoreSetting = "auto" | "postgres" | "redis" | "memory";

const redisStores = new Map<string, RateLimitStore>();

/**
 * The shared store for RATE_LIMIT_STORE: "redis" (needs REDIS_URL), "postgres", "memory" (none:
 * the in-isolate limiter alone), or "auto" (Redis when REDIS_URL is set, else Postgres). One Redis
 * client per URL per isolate.
 */
export function createRateLimitStore(
  setting: RateLimitStoreSetting,
  deps: { sql?: Sql; redisUrl?: string },
): RateLimitStore | undefined {
  const kind = setting === "auto" ? (deps.redisUrl ? "redis" : deps.sql ? "postgres" : "memory") : setting;
  if (kind === "memory") return undefined;
  if (kind === "redis") {
    if (!deps.redisUrl) throw new Error("RATE_LIMIT_STORE=redis needs REDIS_URL");
    let store = redisStores.get(deps.redisUrl);
    if (!store) {
      const url = deps.redisUrl;
      const redis = createRedisStore(url);
      store = {
        name: redis.name,
        hit: redis.hit,
        async close() {
          redisStores.delete(url);
          await redis.close?.();
        },
      };
      redisStores.set(url, store);
    }
    return store;
  }
  if (!deps.sql) throw new Error("RATE_LIMIT_STORE=postgres needs a database URL");
  return createPostgresStore(deps.sql);
}
