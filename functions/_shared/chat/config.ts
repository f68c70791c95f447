// Settings shared by the chat channels (functions `chat` and `whatsapp-webhook`), from the environment
// (README, "Settings"). Validated once when a handler is built; a malformed value fails closed.
import { z } from "zod";
import { databaseUrlFrom, type Env, envInt, parseEnv } from "../config/env.ts";
import { TRUSTED_IP_HEADERS } from "../net/client-ip.ts";
import { DEFAULT_GRAPH_URL } from "../whatsapp/sender.ts";

const optionalText = z.string().optional().transform((v) => (v && v.trim() ? v.trim() : undefined));

const schema = z.object({
  DATABASE_URL: z.string().min(1, "SUPABASE_DB_URL or DATABASE_URL is required"),
  DB_MAX_CONNECTIONS: envInt(4, 1, 50),
  /** whatsapp-webhook: connections kept for accepting events, apart from the bot's work. */
  WHATSAPP_ACK_DB_CONNECTIONS: envInt(2, 1, 20),
  /** whatsapp-webhook: events whose messages are moved into conversations at once per isolate. */
  WHATSAPP_BACKGROUND_CONCURRENCY: envInt(4, 1, 64),
  /** Bot turns under way at once per isolate (each mostly waits on the LLM); more wait their turn. */
  CHAT_MAX_CONCURRENT_TURNS: envInt(64, 1, 1000),
  /** Compared in constant time on the debug and sweep routes. */
  SUPABASE_SERVICE_ROLE_KEY: optionalText,
  /** The bot's deadline for one turn, LLM included; past it the rule-based brain answers. */
  CHAT_TURN_DEADLINE_MS: envInt(12_000, 500, 50_000),
  CHAT_RATE_LIMIT_IP_PER_MINUTE: envInt(30, 0, 1_000_000),
  CHAT_RATE_LIMIT_SITE_PER_MINUTE: envInt(600, 0, 1_000_000),
  CHAT_MAX_MESSAGE_CHARS: envInt(2000, 10, 20_000),
  RATE_LIMIT_STORE: z.enum(["auto", "postgres", "redis", "memory"]).optional().default("auto"),
  RATE_LIMIT_STORE_BUDGET_MS: envInt(50, 1, 5000),
  REDIS_URL: optionalText.refine((v) => v === undefined || /^rediss?:\/\//.test(v), "must be a redis:// or rediss:// URL"),
  TRUSTED_IP_HEADER: z.enum(TRUSTED_IP_HEADERS).optional().default("none"),
  TRUSTED_IP_HOP: envInt(1, 1, 16),
  WHATSAPP_GRAPH_URL: optionalText.transform((v) => v ?? DEFAULT_GRAPH_URL)
    .refine((v) => /^https?:\/\/[^\s]+$/.test(v), "must be an http(s) URL"),
  WHATSAPP_ACCESS_TOKEN: optionalText,
  WHATSAPP_APP_SECRET: optionalText,
  WHATSAPP_VERIFY_TOKEN: optionalText,
  METRICS_FLUSH_INTERVAL_MS: envInt(10_000, 0, 3_600_000),
  LOG_LEVEL: z.enum(["debug", "info", "warn", "error"]).optional().default("info"),
});

export type ChatConfig = z.infer<typeof schema>;

export function parseChatConfig(env: Env): ChatConfig {
  return parseEnv(schema, { ...env, DATABASE_URL: databaseUrlFrom(env) ?? "" });
}
