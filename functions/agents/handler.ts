// Wires the environment to the agents' API (routes and behaviour: functions/_shared/agents/api.ts).
// Settings: README, "Human agents" (SUPABASE_DB_URL | DATABASE_URL; SUPABASE_JWT_SECRET or the
// project's JWKS; AGENTS_FEED_*; the chat settings for WhatsApp delivery).
import type { Env } from "../_shared/config/env.ts";
import { type AgentsDeps, buildAgentsHandler } from "../_shared/agents/api.ts";
import { parseAgentsConfig } from "../_shared/agents/config.ts";
import { failClosedHandler } from "../_shared/http/fail-closed.ts";
import { createLogger, type LogLevel } from "../_shared/log/logger.ts";

export default function buildHandler(env: Env, deps?: AgentsDeps): (req: Request) => Promise<Response> {
  const logger = createLogger({ service: "switchboard" }, { level: (env.LOG_LEVEL as LogLevel) ?? "info" });
  try {
    return buildAgentsHandler(parseAgentsConfig(env), env, logger, deps);
  } catch (error) {
    return failClosedHandler("agents", error as Error, logger);
  }
}
