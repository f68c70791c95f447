// Wires the environment to the Telnyx webhook handler. Settings (README, "Settings"):
//   TELNYX_PUBLIC_KEY                 required: the Portal's Ed25519 public key (base64, raw or SPKI)
//   SUPABASE_DB_URL | DATABASE_URL    required: Postgres (a transaction pooler URL works)
//   TELNYX_DEADLINE_MS                answer within this many ms whatever happens (default 2500)
//   TELNYX_CONFIG_CACHE_TTL_MS        per-isolate configuration cache (default 300000 = 5 min)
//   DB_MAX_CONNECTIONS                connections per isolate (default 4)
//   METRICS_FLUSH_INTERVAL_MS         how often this isolate adds its counters to /metrics (default 10000)
//   SWITCHBOARD_INSECURE_SKIP_SIGNATURES  "true" accepts unsigned requests: development only, loud
import { z } from "zod";
import { ConfigError, databaseUrlFrom, type Env, envFlag, envInt, parseEnv } from "../_shared/config/env.ts";
import { createSql } from "../_shared/db/client.ts";
import { failClosedHandler } from "../_shared/http/fail-closed.ts";
import { createLogger, type LogLevel } from "../_shared/log/logger.ts";
import { createMetricsFlusher } from "../_shared/observability/store.ts";
import { decodeTelnyxPublicKey, importTelnyxPublicKey } from "../_shared/signatures/telnyx.ts";
import { createTelnyxWebhookHandler } from "../_shared/telnyx/handler.ts";

const settings = z.object({
  TELNYX_PUBLIC_KEY: z.string().trim().optional(),
  SWITCHBOARD_INSECURE_SKIP_SIGNATURES: envFlag,
  TELNYX_DEADLINE_MS: envInt(2500, 100, 10_000),
  TELNYX_CONFIG_CACHE_TTL_MS: envInt(300_000, 1, 86_400_000),
  DB_MAX_CONNECTIONS: envInt(4, 1, 50),
  METRICS_FLUSH_INTERVAL_MS: envInt(10_000, 1000, 3_600_000),
  LOG_LEVEL: z.enum(["debug", "info", "warn", "error"]).optional(),
});

export default function buildHandler(env: Env): (req: Request) => Promise<Response> {
  const logger = createLogger({ service: "switchboard" }, { level: (env.LOG_LEVEL as LogLevel) ?? "info" });
  try {
    const config = parseEnv(settings, env);
    const url = databaseUrlFrom(env);
    if (!url) throw new ConfigError("SUPABASE_DB_URL or DATABASE_URL must be set");
    const insecure = config.SWITCHBOARD_INSECURE_SKIP_SIGNATURES;
    if (!config.TELNYX_PUBLIC_KEY && !insecure) {
      throw new ConfigError(
        "TELNYX_PUBLIC_KEY is not set: copy the public key from the Telnyx Portal (Account Settings → Public Key)",
      );
    }
    if (config.TELNYX_PUBLIC_KEY) decodeTelnyxPublicKey(config.TELNYX_PUBLIC_KEY);
    if (insecure) logger.warn("SWITCHBOARD_INSECURE_SKIP_SIGNATURES is set: unsigned requests are accepted");
    const sql = createSql(url, { max: config.DB_MAX_CONNECTIONS, statementTimeoutMs: config.TELNYX_DEADLINE_MS });
    const flusher = createMetricsFlusher(sql, { intervalMs: config.METRICS_FLUSH_INTERVAL_MS });
    return createTelnyxWebhookHandler({
      sql,
      publicKey: config.TELNYX_PUBLIC_KEY && !insecure ? importTelnyxPublicKey(config.TELNYX_PUBLIC_KEY) : null,
      insecureSkipVerification: insecure,
      deadlineMs: config.TELNYX_DEADLINE_MS,
      configCacheTtlMs: config.TELNYX_CONFIG_CACHE_TTL_MS,
      logger,
      afterRequest: (requestLogger) => flusher.maybeFlush(requestLogger),
    });
  } catch (error) {
    return failClosedHandler("telnyx-webhook", error as Error, logger);
  }
}
