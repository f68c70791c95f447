// The operational endpoints:
//
//   GET /functions/v1/health            cheap liveness: no database, no dependency. 200 {status:"ok"}
//   GET /functions/v1/health/detailed   database, pg_cron, queues, integrations, breakers, open alert
//                                       incidents (token)
//   GET /functions/v1/health/incidents  recent alert incidents with their timelines (token);
//                                       ?status=open|resolved|all&limit=1..200&org_id=<uuid>
//   GET /functions/v1/health/metrics    Prometheus text (token); the same as /metrics
//   GET /functions/v1/metrics           Prometheus text (token)
//
// The token is METRICS_TOKEN, sent as `Authorization: Bearer <token>`; without it configured the
// protected endpoints answer 503 NOT_CONFIGURED (fail closed). Detailed health answers 200 when
// healthy or degraded and 503 when unhealthy, so a load balancer can use it as it is.
import { z } from "zod";
import { databaseUrlFrom, type Env, envInt, parseEnv } from "../config/env.ts";
import { createSql, type Sql } from "../db/client.ts";
import { AppError } from "../http/errors.ts";
import { jsonResponse } from "../http/respond.ts";
import { createLogger, type Logger } from "../log/logger.ts";
import { readDatabaseGauges, renderDatabaseGauges } from "./db-gauges.ts";
import { checkHealth } from "./health.ts";
import { describeError, instrumentHandler, type RequestContext } from "./http.ts";
import { metrics } from "./index.ts";
import { createMetricsFlusher, readSharedSamples } from "./store.ts";
import { requireBearerToken } from "./token.ts";

const schema = z.object({
  DATABASE_URL: z.string().optional(),
  METRICS_TOKEN: z.string().optional(),
  HEALTH_QUEUE_TABLES: z
    .string()
    .optional()
    .transform((v) => (v ?? "public.outbox_undelivered,public.inbound_jobs").split(",").map((t) => t.trim()).filter(Boolean))
    .refine((list) => list.every((t) => /^[a-z_][a-z0-9_]*\.[a-z_][a-z0-9_]*$/.test(t)), "schema.table names, comma-separated"),
  HEALTH_QUEUE_DEPTH_WARN: envInt(1000, 0, 1_000_000_000),
  HEALTH_DB_TIMEOUT_MS: envInt(1000, 50, 10_000),
  LOG_LEVEL: z.enum(["debug", "info", "warn", "error"]).optional().default("info"),
});
type HealthConfig = z.infer<typeof schema>;

export interface OpsDeps {
  sql?: Sql;
  logger?: Logger;
}

function normalisedPath(url: string): string {
  let path = new URL(url).pathname;
  if (path.startsWith("/functions/v1/")) path = path.slice("/functions/v1".length);
  return path.length > 1 && path.endsWith("/") ? path.slice(0, -1) : path;
}

function requireGet(req: Request): void {
  if (req.method !== "GET" && req.method !== "HEAD") {
    throw new AppError("METHOD_NOT_ALLOWED", 405, "Use GET", { allow: "GET, HEAD" });
  }
}

function setup(fn: string, env: Env, deps: OpsDeps) {
  const logger = deps.logger ?? createLogger({}, { level: (env.LOG_LEVEL as "info") ?? "info" });
  let config: HealthConfig | null = null;
  try {
    config = parseEnv(schema, { ...env, DATABASE_URL: databaseUrlFrom(env) });
  } catch (error) {
    logger.error(`${fn} function is not configured`, { error: (error as Error).message });
  }
  const sql = deps.sql ?? (config?.DATABASE_URL ? createSql(config.DATABASE_URL, { max: 2 }) : undefined);
  const flusher = sql ? createMetricsFlusher(sql, { intervalMs: 0 }) : null;
  return { logger, config, sql, flusher };
}

async function metricsResponse(
  req: Request,
  ctx: RequestContext,
  s: ReturnType<typeof setup>,
): Promise<Response> {
  await requireBearerToken(req, s.config?.METRICS_TOKEN, "/metrics");
  let body: string;
  if (s.sql && s.flusher) {
    try {
      await s.flusher.flush();
      body = metrics.render(await readSharedSamples(s.sql));
      try {
        body += renderDatabaseGauges(await readDatabaseGauges(s.sql));
      } catch (error) {
        ctx.logger.warn("database gauges unavailable", { error: describeError(error) });
      }
    } catch (error) {
      // The shared store is away: this isolate's own figures are better than nothing.
      ctx.logger.warn("shared metrics unavailable; rendering this isolate's", { error: describeError(error) });
      body = metrics.render() + "# shared metrics store unavailable: values are this isolate's only\n";
    }
  } else {
    body = metrics.render();
  }
  return new Response(req.method === "HEAD" ? null : body, {
    status: 200,
    headers: { "content-type": "text/plain; version=0.0.4; charset=utf-8", "cache-control": "no-store" },
  });
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** ?status=open|resolved|all (all), ?limit=1..200 (50), ?org_id=<uuid>; anything else is 400. */
function parseIncidentsQuery(params: URLSearchParams): { status: string; limit: number; orgId: string | null } {
  for (const key of params.keys()) {
    if (!["status", "limit", "org_id"].includes(key)) throw new AppError("BAD_REQUEST", 400, "Unknown query parameter");
  }
  const status = params.get("status") ?? "all";
  if (!["open", "resolved", "all"].includes(status)) {
    throw new AppError("BAD_REQUEST", 400, "status must be open, resolved or all");
  }
  const limitText = params.get("limit") ?? "50";
  const limit = /^[0-9]{1,3}$/.test(limitText) ? Number(limitText) : NaN;
  if (!(limit >= 1 && limit <= 200)) throw new AppError("BAD_REQUEST", 400, "limit must be an integer from 1 to 200");
  const orgId = params.get("org_id");
  if (orgId !== null && !UUID.test(orgId)) throw new AppError("BAD_REQUEST", 400, "org_id must be a UUID");
  return { status, limit, orgId };
}

/** The `health` function: /health, /health/detailed, /health/incidents, /health/metrics. */
export function buildHealthHandler(env: Env, deps: OpsDeps = {}): (req: Request) => Promise<Response> {
  const s = setup("health", env, deps);
  return instrumentHandler("health", s.logger, async (req, ctx) => {
    const path = normalisedPath(req.url);
    if (path === "/health") {
      requireGet(req);
      return jsonResponse({ status: "ok", time: new Date().toISOString() }, 200, { "cache-control": "no-store" });
    }
    if (path === "/health/detailed") {
      requireGet(req);
      if (!s.config) throw new AppError("NOT_CONFIGURED", 503, "The health function is not configured");
      await requireBearerToken(req, s.config.METRICS_TOKEN, "/health/detailed");
      const health = await checkHealth({
        sql: s.sql,
        queueTables: s.config.HEALTH_QUEUE_TABLES,
        queueDepthWarn: s.config.HEALTH_QUEUE_DEPTH_WARN,
        timeoutMs: s.config.HEALTH_DB_TIMEOUT_MS,
      });
      return jsonResponse(health, health.status === "unhealthy" ? 503 : 200, { "cache-control": "no-store" });
    }
    if (path === "/health/incidents") {
      requireGet(req);
      if (!s.config) throw new AppError("NOT_CONFIGURED", 503, "The health function is not configured");
      await requireBearerToken(req, s.config.METRICS_TOKEN, "/health/incidents");
      if (!s.sql) throw new AppError("NOT_CONFIGURED", 503, "/health/incidents needs DATABASE_URL");
      const query = parseIncidentsQuery(new URL(req.url).searchParams);
      let incidents: unknown;
      try {
        const [row] = await s.sql<{ r: unknown }[]>`
          select public.alert_incidents_recent(${query.limit}, ${query.status}, ${query.orgId}) as r`;
        incidents = row.r;
      } catch (error) {
        ctx.logger.warn("incidents unavailable", { error: describeError(error) });
        throw new AppError("UNAVAILABLE", 503, "Incidents could not be read", { "retry-after": "5" });
      }
      return jsonResponse({ incidents }, 200, { "cache-control": "no-store" });
    }
    if (path === "/health/metrics") {
      requireGet(req);
      return await metricsResponse(req, ctx, s);
    }
    throw new AppError("NOT_FOUND", 404, "No such endpoint");
  });
}

/** The `metrics` function: /metrics. */
export function buildMetricsHandler(env: Env, deps: OpsDeps = {}): (req: Request) => Promise<Response> {
  const s = setup("metrics", env, deps);
  return instrumentHandler("metrics", s.logger, async (req, ctx) => {
    const path = normalisedPath(req.url);
    if (path !== "/metrics") throw new AppError("NOT_FOUND", 404, "No such endpoint");
    requireGet(req);
    return await metricsResponse(req, ctx, s);
  });
}
