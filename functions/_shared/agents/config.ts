// Settings of the agents' API (function `agents`), from the environment (README, "Human agents").
// Validated once when the handler is built; without a way to verify tokens it fails closed.
import { z } from "zod";
import { parseChatConfig } from "../chat/config.ts";
import { databaseUrlFrom, type Env, envInt, parseEnv } from "../config/env.ts";

const optionalText = z.string().optional().transform((v) => (v && v.trim() ? v.trim() : undefined));

const schema = z.object({
  DATABASE_URL: z.string().min(1, "SUPABASE_DB_URL or DATABASE_URL is required"),
  DB_MAX_CONNECTIONS: envInt(4, 1, 50),
  /** HS256 secret of the project's JWTs (Supabase's legacy JWT secret). */
  SUPABASE_JWT_SECRET: optionalText.refine((v) => v === undefined || v.length >= 32, "must be at least 32 characters"),
  /** The project's signing keys (asymmetric JWTs); default: SUPABASE_URL + /auth/v1/.well-known/jwks.json. */
  SUPABASE_JWKS_URL: optionalText.refine((v) => v === undefined || /^https?:\/\/\S+$/.test(v), "must be an http(s) URL"),
  SUPABASE_URL: optionalText,
  /** Longest life of one feed response; clients reconnect with Last-Event-ID (Supabase's wall clock is 150-400 s). */
  AGENTS_FEED_MAX_SECONDS: envInt(110, 5, 3600),
  AGENTS_FEED_HEARTBEAT_MS: envInt(15_000, 500, 120_000),
  /** The feed also reads on this period, in case a notification was missed (or LISTEN is unavailable). */
  AGENTS_FEED_POLL_MS: envInt(2_000, 50, 60_000),
  AGENTS_MAX_MESSAGE_CHARS: envInt(4096, 10, 4096),
}).refine((c) => c.SUPABASE_JWT_SECRET || c.SUPABASE_JWKS_URL || c.SUPABASE_URL, {
  message: "SUPABASE_JWT_SECRET, SUPABASE_JWKS_URL or SUPABASE_URL is required to verify agents' tokens",
});

export type AgentsConfig = z.infer<typeof schema>;

export function parseAgentsConfig(env: Env): AgentsConfig {
  // The outbox senders (WhatsApp) take their settings from the chat configuration: check it here too.
  parseChatConfig(env);
  return parseEnv(schema, { ...env, DATABASE_URL: databaseUrlFrom(env) ?? "" });
}

export function jwksUrlOf(config: AgentsConfig): string | undefined {
  if (config.SUPABASE_JWKS_URL) return config.SUPABASE_JWKS_URL;
  if (config.SUPABASE_URL) return `${config.SUPABASE_URL.replace(/\/+$/, "")}/auth/v1/.well-known/jwks.json`;
  return undefined;
}
