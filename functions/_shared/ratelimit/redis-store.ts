// The Redis store (when REDIS_URL is set): one Lua script counts the request against every key
// atomically, or against none, with Redis's own clock. ioredis 6 runs under Node and under Deno's npm
// compatibility (checked with Deno 2.9; see docs/security.md). Keys are built inside the script, so
// this is for a single Redis node, not Redis Cluster.
//
// Connection behaviour chosen for a limiter that must never delay a request: commands fail at once
// while disconnected (no offline queue after the first connection, no per-command retries), and the
// client reconnects in the background with a capped backoff. The caller's budget (50 ms) covers the rest.
import { Redis } from "ioredis";
import type { RateLimitStore, StoreResult } from "./types.ts";

const SCRIPT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local w = tonumber(ARGV[1])
local cur = math.floor(now / w)
local elapsed = now - cur * w
local weight = 1 - elapsed / w
local n = #KEYS
local prevs, curs = {}, {}
local allowed = 1
for i = 1, n do
  local c = tonumber(redis.call('GET', KEYS[i] .. ':' .. cur) or '0')
  local p = tonumber(redis.call('GET', KEYS[i] .. ':' .. (cur - 1)) or '0')
  prevs[i] = p
  curs[i] = c
  if p * weight + c + 1 > tonumber(ARGV[i + 1]) then allowed = 0 end
end
if allowed == 1 then
  for i = 1, n do
    curs[i] = redis.call('INCR', KEYS[i] .. ':' .. cur)
    redis.call('PEXPIRE', KEYS[i] .. ':' .. cur, w * 2 + 1000)
  end
end
local out = {allowed, elapsed, w}
for i = 1, n do
  out[#out + 1] = prevs[i]
  out[#out + 1] = curs[i]
end
return out
`;

type RedisWithLimit = Redis & {
  switchboardRateLimit(numKeys: number, ...args: (string | number)[]): Promise<number[]>;
};

export interface RedisStoreOptions {
  /** Prefix of every key; default "sb:rl:". */
  prefix?: string;
  connectTimeoutMs?: number;
}

export function createRedisStore(url: string, options: RedisStoreOptions = {}): RateLimitStore {
  const prefix = options.prefix ?? "sb:rl:";
  const client = new Redis(url, {
    lazyConnect: false,
    connectTimeout: options.connectTimeoutMs ?? 1000,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: true,
    // Reconnect with a capped backoff, forever: the limiter falls back while Redis is away.
    retryStrategy: (times: number) => Math.min(times * 200, 2000),
  }) as RedisWithLimit;
  // Without a listener ioredis prints every connection error; the limiter reports failures itself.
  client.on("error", () => {});
  client.defineCommand("switchboardRateLimit", { lua: SCRIPT });

  return {
    name: "redis",
    async hit(keys, limits, windowSeconds): Promise<StoreResult> {
      const raw = await client.switchboardRateLimit(
        keys.length,
        ...keys.map((k) => prefix + k),
        windowSeconds * 1000,
        ...limits,
      );
      const counts = keys.map((_, i) => ({ previous: Number(raw[3 + i * 2]), current: Number(raw[4 + i * 2]) }));
      return { allowed: Number(raw[0]) === 1, elapsedMs: Number(raw[1]), windowMs: Number(raw[2]), counts };
    },
    async close() {
      client.disconnect();
    },
  };
}
