// A per-isolate cache with a time to live, single-flight loading (however many requests miss at once,
// one load runs and they all share it) and stale-if-error (when a reload fails, the last good value
// is served and the error logged by the caller). Never required for correctness: a fresh isolate
// simply loads again.

export type CacheSource = "hit" | "miss" | "stale";

export interface CacheResult<V> {
  value: V;
  source: CacheSource;
}

export interface TtlCacheOptions<K, V> {
  load: (key: K) => Promise<V>;
  ttlMs: number;
  /** TTL for values this predicate marks as negative (e.g. "no such number"). Defaults to ttlMs. */
  negativeTtlMs?: number;
  isNegative?: (value: V) => boolean;
  /** Oldest entries are dropped past this size. */
  maxEntries?: number;
  now?: () => number;
}

export interface CacheStats {
  hits: number;
  misses: number;
  staleServed: number;
  loads: number;
  size: number;
}

export interface TtlCache<K, V> {
  get(key: K): Promise<CacheResult<V>>;
  clear(): void;
  stats(): CacheStats;
}

interface Entry<V> {
  value: V;
  expiresAt: number;
}

export function createTtlCache<K, V>(options: TtlCacheOptions<K, V>): TtlCache<K, V> {
  if (!(options.ttlMs > 0)) throw new Error("createTtlCache: ttlMs must be positive");
  const now = options.now ?? Date.now;
  const maxEntries = options.maxEntries ?? 10_000;
  const entries = new Map<K, Entry<V>>();
  const inflight = new Map<K, Promise<V>>();
  const counts = { hits: 0, misses: 0, staleServed: 0, loads: 0 };

  const ttlFor = (value: V) =>
    options.isNegative?.(value) ? (options.negativeTtlMs ?? options.ttlMs) : options.ttlMs;

  function loadOnce(key: K): Promise<V> {
    let promise = inflight.get(key);
    if (!promise) {
      counts.loads++;
      promise = options
        .load(key)
        .then((value) => {
          entries.delete(key);
          entries.set(key, { value, expiresAt: now() + ttlFor(value) });
          if (entries.size > maxEntries) entries.delete(entries.keys().next().value as K);
          return value;
        })
        .finally(() => inflight.delete(key));
      inflight.set(key, promise);
    }
    return promise;
  }

  return {
    async get(key) {
      const entry = entries.get(key);
      if (entry && entry.expiresAt > now()) {
        counts.hits++;
        return { value: entry.value, source: "hit" };
      }
      counts.misses++;
      try {
        return { value: await loadOnce(key), source: "miss" };
      } catch (error) {
        if (entry) {
          counts.staleServed++;
          return { value: entry.value, source: "stale" };
        }
        throw error;
      }
    },
    clear() {
      entries.clear();
    },
    stats() {
      return { ...counts, size: entries.size };
    },
  };
}
