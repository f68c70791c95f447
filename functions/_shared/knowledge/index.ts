// The knowledge base, in one import:
//
//   createKnowledgeBaseFromEnv(env, { sql, logger }) → KnowledgeSearch   the chat bot's retrieval (turn.ts's port)
//   buildKnowledgeHandler(env, logger, deps?)        → the `knowledge` function's handler (api.ts)
//   processEmbeddingJobs(sql, embedder, logger)      → the embedding worker (jobs.ts)
//
// Settings: settings.ts (KNOWLEDGE_*, EMBEDDINGS_*), plus OPENAI_* for an API embeddings model.
import { z } from "zod";
import { type Env, databaseUrlFrom, envInt, parseEnv } from "../config/env.ts";
import { createSql, type Sql } from "../db/client.ts";
import type { Logger } from "../log/logger.ts";
import { buildKnowledgeApi } from "./api.ts";
import { createAuthenticator } from "./auth.ts";
import { createEmbedderFromEnv, type Embedder } from "./embedder.ts";
import { createKnowledgeBase, type KnowledgeSearch } from "./search.ts";
import { knowledgeSettingsFromEnv } from "./settings.ts";

export { createKnowledgeBase, type KnowledgeSearch, type SearchHit, type SearchResult } from "./search.ts";
export { createOpenAiEmbedder, type Embedder } from "./embedder.ts";
export { processEmbeddingJobs, type ProcessReport } from "./jobs.ts";
export { knowledgeSettingsFromEnv, type KnowledgeSettings } from "./settings.ts";

/** The chat bot's knowledge base from the environment (full text, plus vectors when EMBEDDINGS_MODEL is set). */
export function createKnowledgeBaseFromEnv(env: Env, deps: { sql: Sql; logger?: Logger; embedder?: Embedder | null }): KnowledgeSearch {
  const settings = knowledgeSettingsFromEnv(env);
  const embedder = deps.embedder !== undefined ? deps.embedder : createEmbedderFromEnv(env, settings, deps);
  return createKnowledgeBase({ sql: deps.sql, settings, embedder, logger: deps.logger });
}

const optionalText = z.string().optional().transform((v) => (v && v.trim() ? v.trim() : undefined));
const schema = z.object({
  DATABASE_URL: z.string().min(1, "SUPABASE_DB_URL or DATABASE_URL is required"),
  DB_MAX_CONNECTIONS: envInt(4, 1, 50),
  SUPABASE_SERVICE_ROLE_KEY: optionalText.refine((v) => v === undefined || v.length >= 16, "must be at least 16 characters"),
  SUPABASE_JWT_SECRET: optionalText.refine((v) => v === undefined || v.length >= 16, "must be at least 16 characters"),
}).refine((s) => s.SUPABASE_SERVICE_ROLE_KEY || s.SUPABASE_JWT_SECRET, {
  message: "set SUPABASE_SERVICE_ROLE_KEY and/or SUPABASE_JWT_SECRET: without them no one can be authorised",
  path: ["SUPABASE_SERVICE_ROLE_KEY"],
});

export interface KnowledgeHandlerDeps {
  sql?: Sql;
  /** Replaces the embedder built from EMBEDDINGS_MODEL (tests); null turns embeddings off. */
  embedder?: Embedder | null;
}

/** The `knowledge` function. Throws ConfigError on missing or malformed settings (the caller fails closed). */
export function buildKnowledgeHandler(env: Env, logger: Logger, deps: KnowledgeHandlerDeps = {}) {
  const config = parseEnv(schema, { ...env, DATABASE_URL: databaseUrlFrom(env) ?? "" });
  const sql = deps.sql ?? createSql(config.DATABASE_URL, { max: config.DB_MAX_CONNECTIONS });
  const knowledge = createKnowledgeBaseFromEnv(env, { sql, logger, embedder: deps.embedder });
  return buildKnowledgeApi({
    sql,
    knowledge,
    embedder: knowledge.embedder,
    logger,
    authenticate: createAuthenticator({ serviceRoleKey: config.SUPABASE_SERVICE_ROLE_KEY, jwtSecret: config.SUPABASE_JWT_SECRET }),
  });
}
