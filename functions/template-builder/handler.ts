// Wires the environment to the template builder (functions/_shared/templates/handler.ts). Settings
// (README, "Settings"):
//   SUPABASE_DB_URL | DATABASE_URL   required: Postgres
//   SUPABASE_JWT_SECRET              verifies callers' Supabase JWTs (HS256); unset = every caller acts for
//                                    the demo organisation, allowed only when SUPABASE_URL is unset or local
//   SUPABASE_SERVICE_ROLE_KEY        bearer token of GET session/{id}/debug (unset = debug view off)
//   OPENAI_API_KEY, OPENAI_BASE_URL, OPENAI_MODEL, LLM_TIMEOUT_MS, LLM_TEMPERATURE   the LLM (shared settings)
//   TEMPLATE_BUILDER_MODE            auto (LLM when OPENAI_API_KEY is set, else guided) | guided | llm
//   WHATSAPP_GRAPH_URL               Graph API base (default https://graph.facebook.com/v21.0)
//   TEMPLATE_SUBMIT_TIMEOUT_MS       one template creation request (default 10000)
//   WHATSAPP_APP_SECRET              verifies X-Hub-Signature-256 on POST webhook (comma-separated while rotating)
//   WHATSAPP_VERIFY_TOKEN            answers Meta's GET webhook handshake
//   TEMPLATE_RATE_LIMIT_ORG_PER_MINUTE  chat turns + new sessions + submissions per organisation (default 60, 0 = off)
//   RATE_LIMIT_STORE, REDIS_URL      the shared rate-limit store (as the integrations function)
import { z } from "zod";
import { ConfigError, databaseUrlFrom, type Env, envInt, parseEnv } from "../_shared/config/env.ts";
import { createSql } from "../_shared/db/client.ts";
import { failClosedHandler } from "../_shared/http/fail-closed.ts";
import { createLogger, type LogLevel } from "../_shared/log/logger.ts";
import { createMetricsFlusher } from "../_shared/observability/store.ts";
import { createOutboundPolicy } from "../_shared/resilience/policy.ts";
import { createRateLimiter, createRateLimitStore } from "../_shared/ratelimit/index.ts";
import { DEFAULT_GRAPH_URL } from "../_shared/templates/graph.ts";
import { createTemplateBuilderHandler } from "../_shared/templates/handler.ts";
import { createLlmTemplateModel, type TemplateModel } from "../_shared/templates/llm-flow.ts";
import type { Sql } from "../_shared/db/client.ts";
import { createLlmCallRecorder, createLlmClient, llmSettingsFromEnv } from "../_shared/llm/index.ts";

const settings = z.object({
  SUPABASE_JWT_SECRET: z.string().optional().transform((v) => v?.trim() || null)
    .refine((v) => v === null || v.length >= 32, "must be at least 32 characters"),
  SUPABASE_SERVICE_ROLE_KEY: z.string().optional().transform((v) => v?.trim() || null)
    .refine((v) => v === null || v.length >= 16, "must be at least 16 characters"),
  SUPABASE_URL: z.string().optional().transform((v) => v?.trim() || null),
  TEMPLATE_BUILDER_MODE: z.enum(["auto", "guided", "llm"]).optional().default("auto"),
  WHATSAPP_GRAPH_URL: z.string().optional().transform((v) => (v?.trim() || DEFAULT_GRAPH_URL).replace(/\/+$/, ""))
    .refine((v) => /^https?:\/\/[^\s]+$/.test(v), "must be an http(s) URL"),
  TEMPLATE_SUBMIT_TIMEOUT_MS: envInt(10_000, 500, 60_000),
  WHATSAPP_APP_SECRET: z.string().optional().transform((v) => (v ?? "").split(",").map((s) => s.trim()).filter((s) => s.length > 0)),
  WHATSAPP_VERIFY_TOKEN: z.string().optional().transform((v) => v?.trim() || null),
  TEMPLATE_RATE_LIMIT_ORG_PER_MINUTE: envInt(60, 0, 1_000_000),
  RATE_LIMIT_STORE: z.enum(["auto", "postgres", "redis", "memory"]).optional().default("auto"),
  REDIS_URL: z.string().optional().transform((v) => v?.trim() || undefined),
  DB_MAX_CONNECTIONS: envInt(4, 1, 50),
  METRICS_FLUSH_INTERVAL_MS: envInt(10_000, 1000, 3_600_000),
  LOG_LEVEL: z.enum(["debug", "info", "warn", "error"]).optional(),
});

export interface TemplateBuilderDeps {
  sql?: Sql;
  /** A model to use instead of the one the LLM settings make (tests). */
  model?: TemplateModel;
}

/** A hosted Supabase project (or any non-local URL): the demo organisation is never used there. */
function isHosted(url: string | null): boolean {
  if (!url) return false;
  try {
    const host = new URL(url).hostname;
    return !["localhost", "127.0.0.1", "::1", "[::1]", "kong", "host.docker.internal"].includes(host);
  } catch {
    return true;
  }
}

export default function buildHandler(env: Env, deps: TemplateBuilderDeps = {}): (req: Request) => Promise<Response> {
  const logger = createLogger({ service: "switchboard" }, { level: (env.LOG_LEVEL as LogLevel) ?? "info" });
  try {
    const config = parseEnv(settings, env);
    const url = databaseUrlFrom(env);
    if (!url && !deps.sql) throw new ConfigError("SUPABASE_DB_URL or DATABASE_URL must be set");
    if (!config.SUPABASE_JWT_SECRET && isHosted(config.SUPABASE_URL)) {
      throw new ConfigError("SUPABASE_JWT_SECRET is required on a hosted project (the demo organisation is for local use only)");
    }
    if (!config.SUPABASE_JWT_SECRET) logger.warn("template-builder: no SUPABASE_JWT_SECRET, every caller acts for the demo organisation");
    const llm = llmSettingsFromEnv(env);
    const wantsLlm = config.TEMPLATE_BUILDER_MODE === "llm" || (config.TEMPLATE_BUILDER_MODE === "auto" && (!!llm || !!deps.model));
    if (wantsLlm && !llm && !deps.model) throw new ConfigError("TEMPLATE_BUILDER_MODE=llm needs OPENAI_API_KEY");
    const sql = deps.sql ?? createSql(url!, { max: config.DB_MAX_CONNECTIONS, statementTimeoutMs: 5000 });
    // Every model call lands in llm_calls (purpose 'template', subject_id = the session), which the
    // debug view reads.
    const model: TemplateModel | null = !wantsLlm
      ? null
      : deps.model ?? createLlmTemplateModel(
        createLlmClient(llm!, { recorder: createLlmCallRecorder(sql, logger), logger }),
        { temperature: llm!.temperature },
      );
    const flusher = createMetricsFlusher(sql, { intervalMs: config.METRICS_FLUSH_INTERVAL_MS });
    return createTemplateBuilderHandler({
      sql,
      logger,
      mode: wantsLlm ? "llm" : "guided",
      model: wantsLlm ? model : null,
      jwtSecret: config.SUPABASE_JWT_SECRET,
      serviceRoleKey: config.SUPABASE_SERVICE_ROLE_KEY,
      graphUrl: config.WHATSAPP_GRAPH_URL,
      // No retry: a create whose answer was lost would be refused as a duplicate name on retry.
      graphPolicy: createOutboundPolicy({ name: "whatsapp-graph", timeoutMs: config.TEMPLATE_SUBMIT_TIMEOUT_MS, maxAttempts: 1, logger }),
      appSecrets: config.WHATSAPP_APP_SECRET,
      verifyToken: config.WHATSAPP_VERIFY_TOKEN,
      limiter: config.TEMPLATE_RATE_LIMIT_ORG_PER_MINUTE > 0
        ? createRateLimiter({
          store: createRateLimitStore(config.RATE_LIMIT_STORE, { sql, redisUrl: config.REDIS_URL }),
          windowSeconds: 60,
          logger,
        })
        : undefined,
      orgPerMinute: config.TEMPLATE_RATE_LIMIT_ORG_PER_MINUTE,
      maxBodyBytes: 64 * 1024,
      // Meta: "Webhook payloads can be up to 3 MB."
      maxWebhookBytes: 3 * 1024 * 1024,
      afterRequest: (requestLogger) => flusher.maybeFlush(requestLogger),
    });
  } catch (error) {
    return failClosedHandler("template-builder", error as Error, logger);
  }
}
