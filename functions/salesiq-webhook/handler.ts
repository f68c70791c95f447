// Wires the environment to the Zoho SalesIQ channel (functions/_shared/zoho/webhook.ts).
// Settings: README, "Zoho SalesIQ and Desk" (SUPABASE_DB_URL | DATABASE_URL; SALESIQ_*, DESK_*,
// ZOHO_ACCOUNTS_URL, SALESIQ_API_URL, DESK_API_URL, ZOHO_TOKEN_ENCRYPTION_KEY; OPENAI_* for the LLM).
import type { Env } from "../_shared/config/env.ts";
import { parseChatConfig } from "../_shared/chat/config.ts";
import type { ChatRuntimeDeps } from "../_shared/chat/runtime.ts";
import { failClosedHandler } from "../_shared/http/fail-closed.ts";
import { createLogger, type LogLevel } from "../_shared/log/logger.ts";
import { buildSalesIqWebhookHandler } from "../_shared/zoho/webhook.ts";

export default function buildHandler(env: Env, deps?: ChatRuntimeDeps): (req: Request) => Promise<Response> {
  const logger = createLogger({ service: "switchboard" }, { level: (env.LOG_LEVEL as LogLevel) ?? "info" });
  try {
    return buildSalesIqWebhookHandler(parseChatConfig(env), env, logger, deps);
  } catch (error) {
    return failClosedHandler("salesiq-webhook", error as Error, logger);
  }
}
