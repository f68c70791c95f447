// /health, /health/detailed and /metrics in process against a real Postgres.
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import buildHealth from "../../../functions/health/handler.ts";
import buildMetrics from "../../../functions/metrics/handler.ts";
import buildIntegrations from "../../../functions/integrations/handler.ts";
import { createLogger } from "../../../functions/_shared/log/logger.ts";
import { resetBreakers } from "../../../functions/_shared/resilience/breakers.ts";
import { createOutboundPolicy } from "../../../functions/_shared/resilience/policy.ts";
import { createTestDatabase, type TestDatabase } from "../../support/database.ts";
import { closedPort, createIntegration, eventBody, signedHeaders } from "./support.ts";

const TOKEN = "metrics-token-for-tests-0001";
const logger = createLogger({}, { sink: () => {} });
let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db?.drop();
});

const get = (h: (r: Request) => Promise<Response>, path: string, token?: string, method = "GET") =>
  h(new Request(`http://localhost${path}`, { method, headers: token ? { authorization: `Bearer ${token}` } : {} }));

describe("GET /health", () => {
  it("answers ok without touching anything, even unconfigured", async () => {
    const res = await get(buildHealth({}, { logger }), "/health");
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ status: "ok" });
    expect(res.headers.get("x-request-id")).toBeTruthy();
  });

  it("refuses other methods and paths", async () => {
    const h = buildHealth({}, { logger });
    expect((await get(h, "/health", undefined, "POST")).status).toBe(405);
    expect((await get(h, "/health/nope")).status).toBe(404);
  });
});

describe("GET /health/detailed", () => {
  it("fails closed without METRICS_TOKEN, and refuses a wrong or missing token", async () => {
    const unset = buildHealth({ DATABASE_URL: db.url }, { sql: db.sql, logger });
    const r1 = await get(unset, "/health/detailed", TOKEN);
    expect(r1.status).toBe(503);
    expect((await r1.json()).error.code).toBe("NOT_CONFIGURED");
    const h = buildHealth({ DATABASE_URL: db.url, METRICS_TOKEN: TOKEN }, { sql: db.sql, logger });
    for (const token of [undefined, "wrong-token-wrong-token", `${TOKEN}x`]) {
      const r = await get(h, "/health/detailed", token);
      expect(r.status).toBe(401);
      expect(r.headers.get("www-authenticate")).toContain("Bearer");
    }
  });

  it("reports healthy with database, queues and integrations", async () => {
    resetBreakers();
    await createIntegration(db.sql);
    const h = buildHealth({ DATABASE_URL: db.url, METRICS_TOKEN: TOKEN }, { sql: db.sql, logger });
    const res = await get(h, "/health/detailed", TOKEN);
    expect(res.status).toBe(200);
    const body = await res.json();
    expect(body.status).toBe("healthy");
    expect(body.checks.database.status).toBe("up");
    expect(body.checks.queues).toHaveProperty("public.integration_events");
    expect(body.checks.integrations.total).toBeGreaterThanOrEqual(1);
    expect(body.checks.cron).toMatchObject({ installed: false, jobs: [] });
  });

  it("reports degraded when a breaker is open, with the reason", async () => {
    resetBreakers();
    const policy = createOutboundPolicy({ name: "whatsapp", timeoutMs: 100, maxAttempts: 1, breakerThreshold: 1 });
    await policy.execute(() => Promise.reject(new TypeError("network"))).catch(() => {});
    const h = buildHealth({ DATABASE_URL: db.url, METRICS_TOKEN: TOKEN }, { sql: db.sql, logger });
    const body = await (await get(h, "/health/detailed", TOKEN)).json();
    expect(body.status).toBe("degraded");
    expect(body.reasons).toContain("breaker whatsapp open");
    expect(body.checks.breakers).toContainEqual(expect.objectContaining({ name: "whatsapp", state: "open" }));
    resetBreakers();
  });

  it("sees breakers other isolates reported, and reports its own when it flushes", async () => {
    resetBreakers();
    // Another isolate (the integrations function's, say) reported an open breaker a moment ago.
    await db.sql`select public.report_breakers('other-isolate', ${JSON.stringify([
      { name: "ratelimit:redis", state: "open", since: new Date().toISOString(), consecutiveFailures: 3, lastFailure: "TaskCancelledError" },
    ])}::text::jsonb)`;
    const h = buildHealth({ DATABASE_URL: db.url, METRICS_TOKEN: TOKEN }, { sql: db.sql, logger });
    const body = await (await get(h, "/health/detailed", TOKEN)).json();
    expect(body.status).toBe("degraded");
    expect(body.checks.breakers).toContainEqual(expect.objectContaining({ isolate: "other-isolate", name: "ratelimit:redis", state: "open" }));
    // A report older than two minutes no longer counts.
    await db.sql`update public.breaker_reports set reported_at = now() - interval '3 minutes' where isolate_id = 'other-isolate'`;
    expect((await (await get(h, "/health/detailed", TOKEN)).json()).status).toBe("healthy");
    // This isolate's breakers go to the table with its metrics.
    const policy = createOutboundPolicy({ name: "zoho-desk", timeoutMs: 100, maxAttempts: 1 });
    await policy.execute(async () => "ok");
    const { createMetricsFlusher } = await import("../../../functions/_shared/observability/store.ts");
    await createMetricsFlusher(db.sql).flush();
    const [row] = await db.sql`select state from public.breaker_reports where name = 'zoho-desk'`;
    expect(row.state).toBe("closed");
    resetBreakers();
  });

  it("reads pg_cron jobs and their last runs when the cron schema exists", async () => {
    resetBreakers();
    // pg_cron lives in one database only; its two tables are stood in for here, column for column.
    await db.sql.unsafe(`
      create schema cron;
      create table cron.job (jobid bigint primary key, schedule text, command text, jobname text, active boolean);
      create table cron.job_run_details (jobid bigint, runid bigint, status text, start_time timestamptz, end_time timestamptz);
      insert into cron.job values (1, '*/5 * * * *', 'select public.run_maintenance_tasks()', 'switchboard-maintenance', true);
      insert into cron.job_run_details values (1, 1, 'succeeded', now() - interval '10 minutes', now() - interval '10 minutes'),
                                              (1, 2, 'failed', now() - interval '5 minutes', now() - interval '5 minutes');`);
    try {
      const h = buildHealth({ DATABASE_URL: db.url, METRICS_TOKEN: TOKEN }, { sql: db.sql, logger });
      const body = await (await get(h, "/health/detailed", TOKEN)).json();
      expect(body.checks.cron.installed).toBe(true);
      expect(body.checks.cron.jobs[0]).toMatchObject({ jobname: "switchboard-maintenance", last_status: "failed" });
      expect(body.status).toBe("degraded");
      expect(body.reasons).toContain("cron job switchboard-maintenance failed its last run");
    } finally {
      await db.sql.unsafe("drop schema cron cascade");
    }
  });

  it("counts queue tables that exist and flags a long queue", async () => {
    resetBreakers();
    await db.sql.unsafe("create table public.test_queue (id bigint generated always as identity, payload text)");
    await db.sql.unsafe("insert into public.test_queue (payload) select 'x' from generate_series(1, 7)");
    try {
      const h = buildHealth(
        { DATABASE_URL: db.url, METRICS_TOKEN: TOKEN, HEALTH_QUEUE_TABLES: "public.test_queue,public.missing_table", HEALTH_QUEUE_DEPTH_WARN: "5" },
        { sql: db.sql, logger },
      );
      const body = await (await get(h, "/health/detailed", TOKEN)).json();
      expect(body.checks.queues["test_queue"] ?? body.checks.queues["public.test_queue"]).toBe(7);
      expect(Object.keys(body.checks.queues)).not.toContain("public.missing_table");
      expect(body.status).toBe("degraded");
    } finally {
      await db.sql.unsafe("drop table public.test_queue");
    }
  });

  it("answers 503 unhealthy when the database does not answer", async () => {
    const port = await closedPort();
    const dead = postgres(`postgres://postgres@127.0.0.1:${port}/x`, { max: 1, connect_timeout: 1, onnotice: () => {} });
    const h = buildHealth({ DATABASE_URL: "postgres://unused", METRICS_TOKEN: TOKEN, HEALTH_DB_TIMEOUT_MS: "300" }, { sql: dead, logger });
    const res = await get(h, "/health/detailed", TOKEN);
    expect(res.status).toBe(503);
    const body = await res.json();
    expect(body.status).toBe("unhealthy");
    expect(body.checks.database.status).toBe("down");
    await dead.end({ timeout: 0 });
  });
});

describe("GET /metrics", () => {
  it("fails closed without METRICS_TOKEN and refuses a wrong token", async () => {
    expect((await get(buildMetrics({}, { logger }), "/metrics", TOKEN)).status).toBe(503);
    const m = buildMetrics({ METRICS_TOKEN: TOKEN }, { logger });
    expect((await get(m, "/metrics")).status).toBe(401);
    expect((await get(m, "/metrics", "nope-nope-nope-nope")).status).toBe(401);
  });

  it("exposes requests, latency, errors, cache and rate-limit figures in Prometheus text, summed over isolates", async () => {
    const fx = await createIntegration(db.sql, { ratePerMinute: 1000 });
    const integrations = buildIntegrations(
      { DATABASE_URL: db.url, TRUSTED_IP_HEADER: "x-forwarded-for", RATE_LIMIT_IP_PER_MINUTE: "1", METRICS_FLUSH_INTERVAL_MS: "0" },
      { sql: db.sql, logger },
    );
    for (let i = 0; i < 3; i++) {
      const body = eventBody();
      await integrations(new Request(`http://localhost/integrations/${fx.integrationId}`, {
        method: "POST",
        body,
        headers: await signedHeaders(fx, body, { ip: "198.51.100.77" }),
      }));
    }
    // Another isolate's figures, already flushed to the shared store.
    await db.sql`select public.metrics_add(${JSON.stringify([
      { name: "switchboard_http_requests_total", labels: { function: "telnyx-webhook", status: "200" }, value: 40 },
    ])}::text::jsonb)`;
    const m = buildMetrics({ DATABASE_URL: db.url, METRICS_TOKEN: TOKEN }, { sql: db.sql, logger });
    const res = await get(m, "/metrics", TOKEN);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/plain; version=0.0.4");
    const text = await res.text();
    expect(text).toContain('switchboard_http_requests_total{function="integrations",status="200"} 1');
    expect(text).toContain('switchboard_http_requests_total{function="integrations",status="429"} 2');
    expect(text).toContain('switchboard_http_requests_total{function="telnyx-webhook",status="200"} 40');
    expect(text).toMatch(/switchboard_http_request_duration_seconds_bucket\{function="integrations",le="\+Inf"\} 3/);
    expect(text).toContain('switchboard_http_errors_total{code="RATE_LIMITED",function="integrations"} 2');
    expect(text).toContain('switchboard_rate_limit_rejections_total{function="integrations",scope="ip"} 2');
    expect(text).toMatch(/switchboard_cache_requests_total\{cache="integration",result="(hit|miss)"\}/);
    expect(text).toContain("# TYPE switchboard_cache_hit_ratio gauge");
    // Every sample line is `name{labels} value`.
    for (const line of text.split("\n").filter((l) => l && !l.startsWith("#"))) {
      expect(line).toMatch(/^[a-zA-Z_:][a-zA-Z0-9_:]*(\{[^}]*\})? [-+0-9.eEInfNa]+$/);
    }
    // The health function serves the same text at /health/metrics.
    const h = buildHealth({ DATABASE_URL: db.url, METRICS_TOKEN: TOKEN }, { sql: db.sql, logger });
    expect((await get(h, "/health/metrics", TOKEN)).status).toBe(200);
  });
});
