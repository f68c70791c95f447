import type { WindowCounts } from "./window.ts";

/** What a limit applies to; the scope names the policy in the RateLimit headers. */
export type RateLimitScope = "ip" | "integration" | "org" | (string & {});

export interface RateLimitRule {
  scope: RateLimitScope;
  /** The partition: an IP, an integration id, an org id. Never logged by the limiter. */
  key: string;
  /** Requests per window. */
  limit: number;
}

/** What a store answers for one call: admitted or not, and each rule's counts at that moment. */
export interface StoreResult {
  allowed: boolean;
  elapsedMs: number;
  windowMs: number;
  /** Same order as the rules passed in. */
  counts: WindowCounts[];
}

/** A shared counter store: counts the request against every rule atomically, or against none. */
export interface RateLimitStore {
  readonly name: "postgres" | "redis" | "memory";
  hit(keys: readonly string[], limits: readonly number[], windowSeconds: number): Promise<StoreResult>;
  close?(): Promise<void>;
}
