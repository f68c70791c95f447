// Gauges computed from tables when /metrics is scraped (public.metrics_gauges()): open alert
// incidents, breakers other isolates reported open, pg_cron jobs whose last run failed, the oldest
// undelivered outbox message, the longest wait for a human, and LLM calls, errors and tokens per
// organisation since midnight UTC. They are what prometheus/switchboard-alerts.yml needs beyond the
// functions' own counters; a series appears only once its table exists.
import type { Sql } from "../db/client.ts";
import { formatLabels, type Sample } from "./metrics.ts";

const HELP: Record<string, string> = {
  switchboard_alert_incidents_firing: "Alert incidents firing now, by severity (public.alert_incidents).",
  switchboard_circuit_breaker_reported_open:
    "1 when an isolate reported the breaker not closed in the last two minutes, 0 when only closed (public.breaker_reports).",
  switchboard_cron_job_last_run_failed: "1 when the pg_cron job's last run failed.",
  switchboard_outbox_oldest_undelivered_seconds: "Age of the oldest outbox message not delivered (pending, sending or failed).",
  switchboard_customers_waiting_longest_seconds: "Longest time a customer now waiting for a human has waited.",
  switchboard_llm_org_calls_today: "LLM calls since 00:00 UTC, by organisation (the 500 busiest).",
  switchboard_llm_org_errors_today: "Failed LLM calls since 00:00 UTC, by organisation.",
  switchboard_llm_org_tokens_today: "LLM tokens since 00:00 UTC, by organisation.",
};

export async function readDatabaseGauges(sql: Sql): Promise<Sample[]> {
  const [row] = await sql<{ g: Sample[] }[]>`select public.metrics_gauges() as g`;
  return row.g.map((s) => ({ name: s.name, labels: s.labels ?? {}, value: Number(s.value) }));
}

/** Exposition text for the gauges, grouped by name, known names only. */
export function renderDatabaseGauges(samples: readonly Sample[]): string {
  const lines: string[] = [];
  for (const name of Object.keys(HELP).sort()) {
    const series = samples.filter((s) => s.name === name);
    if (series.length === 0) continue;
    lines.push(`# HELP ${name} ${HELP[name]}`, `# TYPE ${name} gauge`);
    for (const s of series) lines.push(`${name}${formatLabels(s.labels)} ${Number.isFinite(s.value) ? s.value : 0}`);
  }
  return lines.length ? lines.join("\n") + "\n" : "";
}
