// The operational endpoints:
//
//   GET /functions/v1/health            cheap liveness: no database, no dependency. 200 {status:"ok"}
//   GET /functions/v1/health/detailed   database, pg_cron, queues, integrations, breakers (token)
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

/** The `health` function: /health, /health/detailed, /health/metrics. */
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
