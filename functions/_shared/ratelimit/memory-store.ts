// The in-isolate limiter: the same sliding window in a Map. It decides when the shared store fails or
// is slower than its budget, and it mirrors admitted requests while the store works so that it is
// warm when it has to take over. It only sees this isolate's traffic: with N isolates alive, up to N
// times the limit can pass while the store is down (documented in docs/security.md).
import type { RateLimitStore, StoreResult } from "./types.ts";
import { admits } from "./window.ts";

interface Slot {
  window: number;
  previous: number;
  current: number;
}

export const DEFAULT_MEMORY_KEYS = 10_000;

export type MemoryStore = RateLimitStore & {
  /** Counts an admitted request without deciding (mirroring the shared store's decision). */
  record(keys: readonly string[], windowSeconds: number): void;
  size(): number;
};

export function createMemoryStore(options: { maxKeys?: number; now?: () => number } = {}): MemoryStore {
  const maxKeys = options.maxKeys ?? DEFAULT_MEMORY_KEYS;
  const now = options.now ?? (() => Date.now());
  const slots = new Map<string, Slot>();

  function slot(key: string, window: number): Slot {
    let s = slots.get(key);
    if (!s) {
      if (slots.size >= maxKeys) {
        // Evict the oldest key (Map keeps insertion order): bounded memory under a key flood.
        const oldest = slots.keys().next().value;
        if (oldest !== undefined) slots.delete(oldest);
      }
      s = { window, previous: 0, current: 0 };
      slots.set(key, s);
    }
    if (s.window !== window) {
      s.previous = s.window === window - 1 ? s.current : 0;
      s.current = 0;
      s.window = window;
    }
    return s;
  }

  return {
    name: "memory",
    async hit(keys, limits, windowSeconds): Promise<StoreResult> {
      const windowMs = windowSeconds * 1000;
      const t = now();
      const window = Math.floor(t / windowMs);
      const elapsedMs = t - window * windowMs;
      const current = keys.map((k) => slot(k, window));
      const allowed = current.every((s, i) => admits(s, limits[i], elapsedMs, windowMs));
      if (allowed) for (const s of current) s.current++;
      return {
        allowed,
        elapsedMs,
        windowMs,
        counts: current.map((s) => ({ previous: s.previous, current: s.current })),
      };
    },
    record(keys, windowSeconds) {
      const windowMs = windowSeconds * 1000;
      const window = Math.floor(now() / windowMs);
      for (const k of keys) slot(k, window).current++;
    },
    size: () => slots.size,
  };
}
