// Wires the environment to the WhatsApp Cloud API channel (functions/_shared/whatsapp/webhook.ts).
// Settings: WHATSAPP_APP_SECRET and WHATSAPP_VERIFY_TOKEN (required to receive), WHATSAPP_ACCESS_TOKEN
// (or a per-number token) and WHATSAPP_GRAPH_URL to reply, SUPABASE_DB_URL | DATABASE_URL, OPENAI_*.
import type { Env } from "../_shared/config/env.ts";
import { parseChatConfig } from "../_shared/chat/config.ts";
import { failClosedHandler } from "../_shared/http/fail-closed.ts";
import { createLogger, type LogLevel } from "../_shared/log/logger.ts";
import { buildWhatsAppWebhookHandler, type WhatsAppWebhookDeps } from "../_shared/whatsapp/webhook.ts";
import { applyTemplateStatusValues } from "../_shared/templates/status.ts";

export default function buildHandler(env: Env, deps?: WhatsAppWebhookDeps): (req: Request) => Promise<Response> {
  const logger = createLogger({ service: "switchboard" }, { level: (env.LOG_LEVEL as LogLevel) ?? "info" });
  try {
    // Template review events (message_template_status_update) move the template builder's submissions.
    return buildWhatsAppWebhookHandler(parseChatConfig(env), env, logger, { onTemplateStatus: applyTemplateStatusValues, ...deps });
  } catch (error) {
    return failClosedHandler("whatsapp-webhook", error as Error, logger);
  }
}
