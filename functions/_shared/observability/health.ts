// What /health/detailed reports: the database (one round trip to public.health_snapshot(), bounded by
// a timeout), pg_cron jobs and their last runs where pg_cron is installed, queue depths, configured
// integrations, and circuit breakers: this isolate's, and those other isolates reported to
// public.breaker_reports in the last two minutes (a breaker lives in the isolate that uses it); and
// open alert incidents (public.alert_incidents_open(), read alongside the snapshot).
//
//   healthy    the database answers, no breaker is open, no cron job's last run failed, queues short,
//              no alert incident firing
//   degraded   the database answers, but a breaker is open, a cron job failed, a queue is long or an
//              alert incident is firing
//   unhealthy  the database does not answer (or is not configured)
import type { Sql } from "../db/client.ts";
import { type BreakerSnapshot, ISOLATE_ID, listBreakers } from "../resilience/breakers.ts";

export type HealthStatus = "healthy" | "degraded" | "unhealthy";

export interface DetailedHealth {
  status: HealthStatus;
  time: string;
  checks: {
    database: { status: "up" | "down" | "not_configured"; latency_ms?: number; error?: string };
    cron: { installed: boolean; jobs: CronJob[]; failing: string[] };
    queues: Record<string, number>;
    integrations: { total: number; enabled: number } | null;
    /** This isolate's breakers, then those other isolates reported in the last two minutes. */
    breakers: (BreakerSnapshot & { isolate: string })[];
    /** Open alert incidents (pending and firing); null when they could not be read. */
    incidents: OpenIncident[] | null;
  };
  reasons: string[];
}

interface CronJob {
  jobname: string;
  schedule: string;
  active: boolean;
  last_status?: string | null;
  last_start?: string | null;
  last_end?: string | null;
}

export interface OpenIncident {
  id: number;
  rule: string;
  severity: "critical" | "warning";
  status: "pending" | "firing";
  description: string;
  org_id: string | null;
  [field: string]: unknown;
}

interface ReportedBreaker {
  isolate_id: string;
  name: string;
  state: BreakerSnapshot["state"];
  since: string;
  consecutive_failures: number;
  last_failure: string | null;
}

interface Snapshot {
  now: string;
  cron: CronJob[] | null;
  queues: Record<string, number>;
  breakers: ReportedBreaker[];
  integrations: { total: number; enabled: number };
}

export interface HealthOptions {
  sql?: Sql;
  /** Tables counted as queues when they exist (to_regclass), e.g. public.outbox. */
  queueTables?: readonly string[];
  /** A queue longer than this makes the status degraded. */
  queueDepthWarn?: number;
  /** Longest wait for the database. */
  timeoutMs?: number;
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(Object.assign(new Error("timeout"), { name: "TimeoutError" })), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

export async function checkHealth(options: HealthOptions): Promise<DetailedHealth> {
  const breakers = listBreakers().map((b) => ({ ...b, isolate: "this" }));
  const reasons: string[] = [];
  const checks: DetailedHealth["checks"] = {
    database: { status: "not_configured" },
    cron: { installed: false, jobs: [], failing: [] },
    queues: {},
    integrations: null,
    breakers,
    incidents: null,
  };
  if (options.sql) {
    const sql = options.sql;
    const started = performance.now();
    try {
      const tables = [...(options.queueTables ?? ["public.outbox"])];
      // Incidents are read beside the snapshot, not inside it: a database without the alert
      // migrations still reports its health.
      const incidents = sql<{ i: OpenIncident[] }[]>`select public.alert_incidents_open() as i`.then(
        ([r]) => r.i,
        () => null,
      );
      const [[row], open] = await withTimeout(
        Promise.all([
          sql<{ s: Snapshot }[]>`select public.health_snapshot(array(select jsonb_array_elements_text(${JSON.stringify(tables)}::text::jsonb))) as s`,
          incidents,
        ]),
        options.timeoutMs ?? 1000,
      );
      checks.incidents = open;
      const s = row.s;
      checks.database = { status: "up", latency_ms: Math.round(performance.now() - started) };
      checks.cron = {
        installed: s.cron !== null,
        jobs: s.cron ?? [],
        failing: (s.cron ?? []).filter((j) => j.active && j.last_status === "failed").map((j) => j.jobname),
      };
      checks.queues = s.queues;
      for (const b of s.breakers ?? []) {
        if (b.isolate_id === ISOLATE_ID) continue;
        breakers.push({
          isolate: b.isolate_id,
          name: b.name,
          state: b.state,
          since: b.since,
          consecutiveFailures: b.consecutive_failures,
          lastFailure: b.last_failure,
        });
      }
      checks.integrations = s.integrations;
    } catch (error) {
      checks.database = {
        status: "down",
        latency_ms: Math.round(performance.now() - started),
        error: (error as Error)?.name === "TimeoutError" ? "timeout" : "unreachable",
      };
    }
  }
  if (checks.database.status !== "up") reasons.push(`database ${checks.database.status}`);
  for (const b of breakers) {
    const reason = `breaker ${b.name} ${b.state}`;
    if ((b.state === "open" || b.state === "isolated") && !reasons.includes(reason)) reasons.push(reason);
  }
  for (const name of checks.cron.failing) reasons.push(`cron job ${name} failed its last run`);
  for (const i of checks.incidents ?? []) {
    if (i.status === "firing") reasons.push(`alert ${i.rule} firing (${i.severity})${i.org_id ? ` for ${i.org_id}` : ""}`);
  }
  const warn = options.queueDepthWarn ?? 1000;
  for (const [name, depth] of Object.entries(checks.queues)) if (depth > warn) reasons.push(`queue ${name} depth ${depth}`);
  const status: HealthStatus = checks.database.status !== "up" ? "unhealthy" : reasons.length ? "degraded" : "healthy";
  return { status, time: new Date().toISOString(), checks, reasons };
}
