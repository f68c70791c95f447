// The alerts function:
//
//   POST /functions/v1/alerts/deliver   delivers the alert notices that are due (bearer METRICS_TOKEN)
//
// Evaluation is SQL (public.evaluate_alerts(), every minute by pg_cron or npm start's timer); this
// route is what the schedule calls afterwards: pg_net from evaluate_alerts() on Supabase (Vault
// secrets switchboard_alerts_url and switchboard_metrics_token), npm start's timer locally. It
// answers when every notice it claimed has an outcome:
//   200 {"claimed": n, "sent": n, "retrying": n, "failed": n, "lost": n}
// Without METRICS_TOKEN (16+ characters) or a database the function answers 503 NOT_CONFIGURED.
import { z } from "zod";
import { ConfigError, databaseUrlFrom, type Env, envFlag, envInt, parseEnv } from "../config/env.ts";
import { createSql, type Sql } from "../db/client.ts";
import { AppError } from "../http/errors.ts";
import { failClosedHandler } from "../http/fail-closed.ts";
import { jsonResponse } from "../http/respond.ts";
import { createLogger, type Logger, type LogLevel } from "../log/logger.ts";
import { instrumentHandler } from "../observability/http.ts";
import { createMetricsFlusher } from "../observability/store.ts";
import { MIN_TOKEN_LENGTH, requireBearerToken } from "../observability/token.ts";
import { createNoticeDeliverer } from "./deliver.ts";

const settings = z.object({
  METRICS_TOKEN: z.string().optional(),
  ALERT_ALLOW_PRIVATE_URLS: envFlag,
  ALERT_DELIVERY_TIMEOUT_MS: envInt(5000, 100, 15_000),
  ALERT_DELIVERY_BATCH: envInt(20, 1, 500),
  METRICS_FLUSH_INTERVAL_MS: envInt(10_000, 0, 3_600_000),
  LOG_LEVEL: z.enum(["debug", "info", "warn", "error"]).optional(),
});

export interface AlertsDeps {
  sql?: Sql;
  logger?: Logger;
}

function normalisedPath(url: string): string {
  let path = new URL(url).pathname;
  if (path.startsWith("/functions/v1/")) path = path.slice("/functions/v1".length);
  return path.length > 1 && path.endsWith("/") ? path.slice(0, -1) : path;
}

export function buildAlertsHandler(env: Env, deps: AlertsDeps = {}): (req: Request) => Promise<Response> {
  const logger = deps.logger ??
    createLogger({ service: "switchboard" }, { level: (env.LOG_LEVEL as LogLevel) ?? "info" });
  try {
    const config = parseEnv(settings, env);
    const url = databaseUrlFrom(env);
    if (!deps.sql && !url) throw new ConfigError("SUPABASE_DB_URL or DATABASE_URL must be set");
    if (!config.METRICS_TOKEN || config.METRICS_TOKEN.length < MIN_TOKEN_LENGTH) {
      throw new ConfigError(`METRICS_TOKEN (${MIN_TOKEN_LENGTH}+ characters) must be set: it guards /alerts/deliver`);
    }
    if (config.ALERT_ALLOW_PRIVATE_URLS) {
      logger.warn("ALERT_ALLOW_PRIVATE_URLS is set: organisations' alert destinations may be http or private addresses");
    }
    const sql = deps.sql ?? createSql(url!, { max: 2 });
    const flusher = createMetricsFlusher(sql, { intervalMs: config.METRICS_FLUSH_INTERVAL_MS });
    const deliverer = createNoticeDeliverer({
      sql,
      logger,
      allowPrivateUrls: config.ALERT_ALLOW_PRIVATE_URLS,
      attemptTimeoutMs: config.ALERT_DELIVERY_TIMEOUT_MS,
      batchSize: config.ALERT_DELIVERY_BATCH,
    });
    const token = config.METRICS_TOKEN;
    return instrumentHandler("alerts", logger, async (req, ctx) => {
      const path = normalisedPath(req.url);
      if (path !== "/alerts/deliver") throw new AppError("NOT_FOUND", 404, "No such endpoint");
      if (req.method !== "POST") throw new AppError("METHOD_NOT_ALLOWED", 405, "Use POST", { allow: "POST" });
      await requireBearerToken(req, token, "/alerts/deliver");
      let run;
      try {
        run = await deliverer.run({ requestId: ctx.requestId, logger: ctx.logger });
      } catch (error) {
        ctx.logFields.failure = (error as Error)?.name ?? "Error";
        throw new AppError("UNAVAILABLE", 503, "Alert notices could not be read; the next run retries", {
          "retry-after": "30",
        });
      }
      Object.assign(ctx.logFields, run);
      flusher.maybeFlush(ctx.logger);
      return jsonResponse(run, 200, { "cache-control": "no-store" });
    });
  } catch (error) {
    return failClosedHandler("alerts", error as Error, logger);
  }
}
