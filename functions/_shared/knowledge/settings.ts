// Knowledge-base settings from the environment, validated once with zod (README, "Settings").
//
//   KNOWLEDGE_MIN_TEXT_SCORE   the gate for full-text matches: the share of the question (0-1, idf
//                              weighted) the best section must cover for the bot to answer (default 0.65)
//   KNOWLEDGE_MIN_SIMILARITY   the gate for vector matches: the raw cosine similarity the best section
//                              must reach (default 0.75; tune it per model with GET knowledge/search)
//   EMBEDDINGS_MODEL           unset: full text only. "gte-small": Supabase's built-in model on the
//                              edge (English, 384 dimensions). Anything else: that model on the
//                              OpenAI-compatible server of OPENAI_BASE_URL / OPENAI_API_KEY.
//   EMBEDDINGS_DIMENSIONS      optional `dimensions` for models that take it (text-embedding-3-*)
//   KNOWLEDGE_QUERY_TIMEOUT_MS deadline for embedding a customer's question (default 1500); past it
//                              the search is full text only
// Per-organisation thresholds in public.knowledge_settings override the first two.
import { z } from "zod";
import { type Env, envInt, parseEnv } from "../config/env.ts";

export const DEFAULT_MIN_TEXT_SCORE = 0.65;
export const DEFAULT_MIN_SIMILARITY = 0.75;
export const SUPABASE_GTE_SMALL = "gte-small";

export interface KnowledgeSettings {
  minTextScore: number;
  minSimilarity: number;
  /** null: no embeddings (full text only). */
  embeddings: { provider: "openai" | "supabase"; model: string; dimensions: number | null } | null;
  queryTimeoutMs: number;
}

const fraction = (fallback: number, min: number) =>
  z.string().optional().transform((v, ctx) => {
    if (v === undefined || v.trim() === "") return fallback;
    const n = Number(v);
    if (!Number.isFinite(n) || n <= min || n > 1) {
      ctx.addIssue({ code: "custom", message: `must be a number above ${min} and at most 1` });
      return z.NEVER;
    }
    return n;
  });

const schema = z.object({
  KNOWLEDGE_MIN_TEXT_SCORE: fraction(DEFAULT_MIN_TEXT_SCORE, 0),
  KNOWLEDGE_MIN_SIMILARITY: fraction(DEFAULT_MIN_SIMILARITY, -1),
  EMBEDDINGS_MODEL: z.string().optional().transform((v) => v?.trim() || null)
    .refine((v) => v === null || /^[\w.:/@-]{1,200}$/.test(v), "must be a model name (letters, digits, . : / @ - _)"),
  EMBEDDINGS_DIMENSIONS: z.string().optional().transform((v, ctx) => {
    if (v === undefined || v.trim() === "") return null;
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1 || n > 16000) {
      ctx.addIssue({ code: "custom", message: "must be an integer between 1 and 16000" });
      return z.NEVER;
    }
    return n;
  }),
  KNOWLEDGE_QUERY_TIMEOUT_MS: envInt(1500, 50, 30_000),
});

/** Throws ConfigError on malformed values (the caller fails closed). */
export function knowledgeSettingsFromEnv(env: Env): KnowledgeSettings {
  const s = parseEnv(schema, env);
  return {
    minTextScore: s.KNOWLEDGE_MIN_TEXT_SCORE,
    minSimilarity: s.KNOWLEDGE_MIN_SIMILARITY,
    embeddings: s.EMBEDDINGS_MODEL
      ? { provider: s.EMBEDDINGS_MODEL === SUPABASE_GTE_SMALL ? "supabase" : "openai", model: s.EMBEDDINGS_MODEL, dimensions: s.EMBEDDINGS_DIMENSIONS }
      : null,
    queryTimeoutMs: s.KNOWLEDGE_QUERY_TIMEOUT_MS,
  };
}
