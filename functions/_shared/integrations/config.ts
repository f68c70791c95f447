// Settings of the integrations function, from the environment (docs/security.md lists each).
import { z } from "zod";
import { databaseUrlFrom, type Env, envInt, parseEnv } from "../config/env.ts";
import { TRUSTED_IP_HEADERS } from "../net/client-ip.ts";
import { DEFAULT_MAX_BODY_BYTES } from "../http/body.ts";
import { DEFAULT_MAX_JSON_DEPTH } from "./envelope.ts";

const schema = z
  .object({
    DATABASE_URL: z.string().min(1, "SUPABASE_DB_URL or DATABASE_URL is required"),
    REDIS_URL: z
      .string()
      .optional()
      .transform((v) => (v && v.trim() ? v.trim() : undefined))
      .refine((v) => v === undefined || /^rediss?:\/\//.test(v), "must be a redis:// or rediss:// URL"),
    RATE_LIMIT_STORE: z.enum(["auto", "postgres", "redis", "memory"]).optional().default("auto"),
    RATE_LIMIT_STORE_BUDGET_MS: envInt(50, 1, 5000),
    RATE_LIMIT_IP_PER_MINUTE: envInt(60, 0, 1_000_000),
    RATE_LIMIT_ORG_PER_MINUTE: envInt(60, 0, 1_000_000),
    TRUSTED_IP_HEADER: z.enum(TRUSTED_IP_HEADERS).optional().default("none"),
    TRUSTED_IP_HOP: envInt(1, 1, 16),
    SIGNATURE_TOLERANCE_SECONDS: envInt(300, 1, 3600),
    REPLAY_TTL_SECONDS: envInt(600, 1, 7 * 86400),
    INTEGRATION_MAX_BODY_BYTES: envInt(DEFAULT_MAX_BODY_BYTES, 1024, 10 * 1024 * 1024),
    INTEGRATION_MAX_JSON_DEPTH: envInt(DEFAULT_MAX_JSON_DEPTH, 2, 256),
    INTEGRATION_CACHE_TTL_MS: envInt(5000, 0, 600_000),
    METRICS_FLUSH_INTERVAL_MS: envInt(10_000, 0, 3_600_000),
    LOG_LEVEL: z.enum(["debug", "info", "warn", "error"]).optional().default("info"),
  })
  .refine((c) => c.REPLAY_TTL_SECONDS >= 2 * c.SIGNATURE_TOLERANCE_SECONDS, {
    message: "REPLAY_TTL_SECONDS must be at least twice SIGNATURE_TOLERANCE_SECONDS",
    path: ["REPLAY_TTL_SECONDS"],
  })
  .refine((c) => c.RATE_LIMIT_STORE !== "redis" || c.REDIS_URL !== undefined, {
    message: "RATE_LIMIT_STORE=redis needs REDIS_URL",
    path: ["RATE_LIMIT_STORE"],
  });

export type IntegrationsConfig = z.infer<typeof schema>;

export function parseIntegrationsConfig(env: Env): IntegrationsConfig {
  return parseEnv(schema, { ...env, DATABASE_URL: databaseUrlFrom(env) ?? "" });
}
