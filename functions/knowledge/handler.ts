// Wires the environment to the knowledge base's management API (routes: functions/_shared/knowledge/api.ts).
// Settings: README, "Settings" (SUPABASE_DB_URL | DATABASE_URL; SUPABASE_SERVICE_ROLE_KEY and/or
// SUPABASE_JWT_SECRET; KNOWLEDGE_*, EMBEDDINGS_* and OPENAI_* for embeddings).
import type { Env } from "../_shared/config/env.ts";
import { failClosedHandler } from "../_shared/http/fail-closed.ts";
import { buildKnowledgeHandler, type KnowledgeHandlerDeps } from "../_shared/knowledge/index.ts";
import { createLogger, type LogLevel } from "../_shared/log/logger.ts";

export default function buildHandler(env: Env, deps?: KnowledgeHandlerDeps): (req: Request) => Promise<Response> {
  const logger = createLogger({ service: "switchboard" }, { level: (env.LOG_LEVEL as LogLevel) ?? "info" });
  try {
    return buildKnowledgeHandler(env, logger, deps);
  } catch (error) {
    return failClosedHandler("knowledge", error as Error, logger);
  }
}
