// Wires the environment to the web-chat API (routes and behaviour: functions/_shared/chat/web.ts).
// Settings: README, "Settings" (SUPABASE_DB_URL | DATABASE_URL required; SUPABASE_SERVICE_ROLE_KEY
// for the debug and sweep routes; OPENAI_* for the LLM; CHAT_* limits).
import type { Env } from "../_shared/config/env.ts";
import { parseChatConfig } from "../_shared/chat/config.ts";
import type { ChatRuntimeDeps } from "../_shared/chat/runtime.ts";
import { buildChatHandler } from "../_shared/chat/web.ts";
import { failClosedHandler } from "../_shared/http/fail-closed.ts";
import { createLogger, type LogLevel } from "../_shared/log/logger.ts";

export default function buildHandler(env: Env, deps?: ChatRuntimeDeps): (req: Request) => Promise<Response> {
  const logger = createLogger({ service: "switchboard" }, { level: (env.LOG_LEVEL as LogLevel) ?? "info" });
  try {
    return buildChatHandler(parseChatConfig(env), env, logger, deps);
  } catch (error) {
    return failClosedHandler("chat", error as Error, logger);
  }
}
