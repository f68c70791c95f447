// Metrics shared across isolates: each isolate flushes its counter deltas to public.metric_samples
// and its circuit breakers to public.breaker_reports (at most every METRICS_FLUSH_INTERVAL_MS, after
// the response); /metrics renders the sums and /health/detailed the breakers. Up to one interval of
// counts is lost when an isolate is shut down; Prometheus' rate() tolerates that.
import type { Sql } from "../db/client.ts";
import { describeError } from "./http.ts";
import type { Logger } from "../log/logger.ts";
import { runInBackground } from "../runtime/background.ts";
import { registry } from "./index.ts";
import { ISOLATE_ID, listBreakers } from "../resilience/breakers.ts";
import type { MetricsRegistry, Sample } from "./metrics.ts";

export interface MetricsFlusher {
  /** Flushes in the background when the interval has passed since the last flush. */
  maybeFlush(logger?: Logger): void;
  /** Flushes now (used by /metrics before it reads). */
  flush(): Promise<void>;
}

export function createMetricsFlusher(
  sql: Sql,
  options: { intervalMs?: number; registry?: MetricsRegistry } = {},
): MetricsFlusher {
  const reg = options.registry ?? registry;
  const intervalMs = options.intervalMs ?? 10_000;
  let last = 0;
  let running: Promise<void> | null = null;

  async function flush(): Promise<void> {
    if (running) return await running;
    running = (async () => {
      last = Date.now();
      const breakers = listBreakers();
      if (breakers.length > 0) {
        await sql`select public.report_breakers(${ISOLATE_ID}, ${JSON.stringify(breakers.slice(0, 100))}::text::jsonb)`;
      }
      const deltas = reg.drainDeltas();
      if (deltas.length === 0) return;
      try {
        for (let i = 0; i < deltas.length; i += 5000) {
          const batch = deltas.slice(i, i + 5000);
          await sql`select public.metrics_add(${JSON.stringify(batch)}::text::jsonb)`;
        }
      } catch (error) {
        reg.restoreDeltas(deltas);
        throw error;
      }
    })();
    try {
      await running;
    } finally {
      running = null;
    }
  }

  return {
    maybeFlush(logger) {
      if (intervalMs <= 0 || running || Date.now() - last < intervalMs) return;
      last = Date.now();
      runInBackground(async () => {
        try {
          await flush();
        } catch (error) {
          logger?.warn("metrics flush failed", { error: describeError(error) });
        }
      });
    },
    flush,
  };
}

/** Every series summed over isolates, as flushed so far. */
export async function readSharedSamples(sql: Sql): Promise<Sample[]> {
  const [row] = await sql<{ s: Sample[] }[]>`select public.metrics_snapshot() as s`;
  return row.s.map((s) => ({ name: s.name, labels: s.labels ?? {}, value: Number(s.value) }));
}
