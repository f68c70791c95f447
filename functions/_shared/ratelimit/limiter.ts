// Rate limiting with a shared store (Postgres or Redis) and an in-isolate fallback.
//
// Each check counts one request against several rules at once (per IP, per integration, per
// organisation): admitted only if every rule has room, counted against all or none. The store call
// runs through an outbound policy named `ratelimit:<store>`: a budget (default 50 ms) and a breaker.
// When the store errors, is slower than the budget, or its breaker is open, the in-isolate limiter
// decides and the request is not delayed further; the breaker shows up in /health/detailed.
import type { Logger } from "../log/logger.ts";
import { metrics } from "../observability/index.ts";
import { BrokenCircuitError, createOutboundPolicy, type OutboundPolicy, TaskCancelledError } from "../resilience/policy.ts";
import { createMemoryStore } from "./memory-store.ts";
import type { RateLimitRule, RateLimitStore, StoreResult } from "./types.ts";
import { remaining, secondsToWindowEnd, secondsUntilAdmitted } from "./window.ts";

export interface RuleOutcome {
  scope: string;
  limit: number;
  remaining: number;
  /** Seconds until this rule has room again (when it refused) or until its window ends. */
  resetSeconds: number;
  exceeded: boolean;
}

export interface RateLimitDecision {
  allowed: boolean;
  /** Which store decided: the shared one, or "memory" when it fell back. */
  decidedBy: "postgres" | "redis" | "memory";
  windowSeconds: number;
  rules: RuleOutcome[];
  /** For a refusal: seconds to put in Retry-After (the longest wait among exceeded rules). */
  retryAfterSeconds: number;
  /** The first exceeded rule's scope, for logs and metrics. */
  exceededScope: string | null;
}

export interface RateLimiterOptions {
  /** The shared store; without one, the in-isolate limiter decides alone. */
  store?: RateLimitStore;
  windowSeconds?: number;
  /** Longest wait for the shared store before the in-isolate limiter decides. Default 50 ms. */
  budgetMs?: number;
  /** Consecutive store failures that open its breaker. Default 3. */
  breakerThreshold?: number;
  /** How long the store is skipped once its breaker opens. Default 5 s. */
  halfOpenAfterMs?: number;
  logger?: Logger;
  /** For tests: the in-isolate limiter's clock. */
  now?: () => number;
}

export interface RateLimiter {
  check(rules: readonly RateLimitRule[]): Promise<RateLimitDecision>;
  readonly storeName: string;
  close(): Promise<void>;
}

const KEY_PART = /^[A-Za-z0-9_.:-]{1,120}$/;

export function createRateLimiter(options: RateLimiterOptions = {}): RateLimiter {
  const windowSeconds = options.windowSeconds ?? 60;
  const budgetMs = options.budgetMs ?? 50;
  if (!Number.isInteger(windowSeconds) || windowSeconds < 1 || windowSeconds > 3600) {
    throw new Error("createRateLimiter: windowSeconds must be an integer from 1 to 3600");
  }
  if (!Number.isInteger(budgetMs) || budgetMs < 1) throw new Error("createRateLimiter: budgetMs must be a positive integer");
  const memory = createMemoryStore({ now: options.now });
  const store = options.store;
  const policy: OutboundPolicy | null = store
    ? createOutboundPolicy({
      name: `ratelimit:${store.name}`,
      timeoutMs: budgetMs,
      maxAttempts: 1,
      breakerThreshold: options.breakerThreshold ?? 3,
      halfOpenAfterMs: options.halfOpenAfterMs ?? 5000,
      // Every store failure counts against the breaker (a driver error is not a TypeError).
      isRetryable: () => true,
    })
    : null;

  function toDecision(rules: readonly RateLimitRule[], result: StoreResult, decidedBy: RateLimitDecision["decidedBy"]) {
    const outcomes: RuleOutcome[] = rules.map((rule, i) => {
      const counts = result.counts[i];
      const exceeded = !result.allowed &&
        counts.previous * (1 - result.elapsedMs / result.windowMs) + counts.current + 1 > rule.limit;
      return {
        scope: rule.scope,
        limit: rule.limit,
        remaining: result.allowed ? remaining(counts, rule.limit, result.elapsedMs, result.windowMs) : 0,
        resetSeconds: exceeded
          ? secondsUntilAdmitted(counts, rule.limit, result.elapsedMs, result.windowMs)
          : secondsToWindowEnd(result.elapsedMs, result.windowMs),
        exceeded,
      };
    });
    const exceeded = outcomes.filter((o) => o.exceeded);
    return {
      allowed: result.allowed,
      decidedBy,
      windowSeconds,
      rules: outcomes,
      retryAfterSeconds: exceeded.length ? Math.max(...exceeded.map((o) => o.resetSeconds)) : 0,
      exceededScope: exceeded[0]?.scope ?? null,
    };
  }

  return {
    storeName: store?.name ?? "memory",
    async check(rules) {
      const active = rules.filter((r) => r.limit > 0);
      if (active.length === 0) {
        return { allowed: true, decidedBy: "memory", windowSeconds, rules: [], retryAfterSeconds: 0, exceededScope: null };
      }
      for (const r of active) {
        if (!KEY_PART.test(r.scope) || r.key.length === 0 || r.key.length > 120) {
          throw new Error("rate limit rule: scope must be a short identifier and key 1-120 characters");
        }
      }
      // The window is part of the key, so that changing it never mixes counts of different lengths.
      const keys = active.map((r) => `${windowSeconds}:${r.scope}:${r.key}`);
      const limits = active.map((r) => r.limit);
      if (!store || !policy) return toDecision(active, await memory.hit(keys, limits, windowSeconds), "memory");
      try {
        const shared = await policy.execute(() => store.hit(keys, limits, windowSeconds));
        // Mirror admitted requests locally, so that the fallback is warm if the store goes away.
        if (shared.allowed) memory.record(keys, windowSeconds);
        return toDecision(active, shared, store.name);
      } catch (error) {
        const reason = error instanceof BrokenCircuitError
          ? "circuit_open"
          : error instanceof TaskCancelledError
          ? "timeout"
          : "error";
        metrics.rateLimitFallback(store.name, reason);
        if (reason !== "circuit_open") {
          options.logger?.warn("rate-limit store failed; in-isolate limiter decides", { store: store.name, reason });
        }
        return toDecision(active, await memory.hit(keys, limits, windowSeconds), "memory");
      }
    },
    async close() {
      await store?.close?.();
    },
  };
}

/**
 * RateLimit-Policy and RateLimit fields (draft-ietf-httpapi-ratelimit-headers, structured lists:
 * `"ip";q=60;w=60` and `"ip";r=59;t=42`), plus Retry-After on a refusal. Retry-After is never earlier
 * than the `t` of any exceeded policy, as the draft asks.
 */
export function rateLimitHeaders(decisions: readonly RateLimitDecision[]): Record<string, string> {
  const rules = decisions.flatMap((d) => d.rules.map((r) => ({ ...r, window: d.windowSeconds })));
  if (rules.length === 0) return {};
  const headers: Record<string, string> = {
    "RateLimit-Policy": rules.map((r) => `"${r.scope}";q=${r.limit};w=${r.window}`).join(", "),
    "RateLimit": rules.map((r) => `"${r.scope}";r=${r.remaining};t=${r.resetSeconds}`).join(", "),
  };
  const refused = decisions.filter((d) => !d.allowed);
  if (refused.length) headers["Retry-After"] = String(Math.max(...refused.map((d) => d.retryAfterSeconds)));
  return headers;
}
