// The sliding-window arithmetic every store shares (Postgres function rate_limit_hit, the Redis script,
// the in-isolate fallback): the estimate is the previous fixed window's count weighted by the share
// of it still inside the sliding window, plus the current window's count. This is Upstash's
// slidingWindow approximation (upstash/ratelimit-js src/lua-scripts/single.ts); it assumes requests
// in the previous window were spread evenly.

export interface WindowCounts {
  /** Requests counted in the previous fixed window. */
  previous: number;
  /** Requests counted in the current fixed window (including this one when it was admitted). */
  current: number;
}

/** Milliseconds to whole seconds, rounding up, without float noise turning 31.0000001 into 32. */
function ceilSeconds(ms: number): number {
  return Math.ceil(ms / 1000 - 1e-9);
}

export function estimate(counts: WindowCounts, elapsedMs: number, windowMs: number): number {
  return counts.previous * (1 - elapsedMs / windowMs) + counts.current;
}

/** Whether one more request fits: the estimate with it counted stays within the limit. */
export function admits(counts: WindowCounts, limit: number, elapsedMs: number, windowMs: number): boolean {
  return counts.previous * (1 - elapsedMs / windowMs) + counts.current + 1 <= limit;
}

/** Requests still allowed now (after this one, when it was admitted and counted in `current`). */
export function remaining(counts: WindowCounts, limit: number, elapsedMs: number, windowMs: number): number {
  return Math.max(0, Math.floor(limit - estimate(counts, elapsedMs, windowMs)));
}

/**
 * Whole seconds until one more request fits, given counts that did not admit it: at least 1. Works
 * across the window boundary (where `current` becomes the next window's `previous`).
 */
export function secondsUntilAdmitted(counts: WindowCounts, limit: number, elapsedMs: number, windowMs: number): number {
  const { previous, current } = counts;
  // Still in this window: previous × (1 − (elapsed + t)/W) + current + 1 ≤ limit.
  if (current + 1 <= limit && previous > 0) {
    const t = windowMs * (1 - (limit - current - 1) / previous) - elapsedMs;
    return Math.max(1, ceilSeconds(t));
  }
  // In the next window, with this window's count as its previous: current × (1 − e/W) + 1 ≤ limit.
  const toBoundary = windowMs - elapsedMs;
  const intoNext = current > 0 ? Math.max(0, windowMs * (1 - (limit - 1) / current)) : 0;
  return Math.max(1, ceilSeconds(toBoundary + intoNext));
}

/** Seconds until the current fixed window ends: the conservative reset shown when a request passed. */
export function secondsToWindowEnd(elapsedMs: number, windowMs: number): number {
  return Math.max(1, Math.ceil((windowMs - elapsedMs) / 1000));
}
