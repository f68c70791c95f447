// Embeddings for the knowledge base: one interface, two providers.
//   * an OpenAI-compatible /embeddings endpoint through the shared LLM client (OPENAI_BASE_URL,
//     OPENAI_API_KEY; recorded in llm_calls like every LLM call);
//   * Supabase's built-in gte-small (`Supabase.ai.Session`), only inside Supabase's edge runtime:
//     English only, 384 dimensions, input cut at 512 tokens, vectors normalised.
// Vectors are always unit length here (cosine similarity = inner product), whatever the provider.
import { createLlmCallRecorder, createLlmClient, type LlmClient, llmSettingsFromEnv, type LlmPurpose } from "../llm/index.ts";
import type { Sql } from "../db/client.ts";
import type { Env } from "../config/env.ts";
import { ConfigError } from "../config/env.ts";
import type { Logger } from "../log/logger.ts";
import type { KnowledgeSettings } from "./settings.ts";

export interface EmbedOptions {
  signal?: AbortSignal;
  deadlineMs?: number;
  /** Recorded in llm_calls under this organisation and purpose (OpenAI-compatible provider only). */
  record?: { orgId: string; purpose: LlmPurpose };
}

export interface Embedder {
  /** The model name stored next to each vector: search compares only vectors of one model. */
  readonly model: string;
  embed(texts: string[], options?: EmbedOptions): Promise<number[][]>;
}

export function normalise(vector: number[]): number[] {
  let sum = 0;
  for (const x of vector) sum += x * x;
  const norm = Math.sqrt(sum);
  if (!Number.isFinite(norm) || norm === 0) throw Object.assign(new Error("embedding is a zero vector"), { code: "bad_response" });
  return vector.map((x) => x / norm);
}

/** The embedder on an OpenAI-compatible server, through the shared LLM client. */
export function createOpenAiEmbedder(llm: LlmClient, model: string, dimensions: number | null = null): Embedder {
  if (!model) throw new Error("createOpenAiEmbedder: model is required");
  return {
    model,
    async embed(texts, options = {}) {
      const result = await llm.embed(
        { input: texts, model, ...(dimensions ? { dimensions } : {}) },
        { signal: options.signal, deadlineMs: options.deadlineMs, record: options.record },
      );
      return result.vectors.map(normalise);
    },
  };
}

interface SupabaseAiSession {
  run(input: string, options: { mean_pool: boolean; normalize: boolean }): Promise<unknown>;
}
declare const Supabase: { ai?: { Session: new (model: string) => SupabaseAiSession } } | undefined;

/** Supabase's built-in gte-small; null outside Supabase's edge runtime. */
export function createSupabaseEmbedder(): Embedder | null {
  const ai = typeof Supabase !== "undefined" ? Supabase?.ai : undefined;
  if (!ai?.Session) return null;
  const session = new ai.Session("gte-small");
  return {
    model: "gte-small",
    async embed(texts, options = {}) {
      const out: number[][] = [];
      for (const text of texts) {
        if (options.signal?.aborted) throw Object.assign(new Error("embedding cancelled"), { code: "timeout" });
        const vector = await session.run(text, { mean_pool: true, normalize: true });
        out.push(normalise(Array.from(vector as ArrayLike<number>)));
      }
      return out;
    },
  };
}

/**
 * The embedder the settings ask for, or null (full text only). Throws ConfigError when embeddings
 * are asked for but cannot work here: an API model without OPENAI_API_KEY, or gte-small outside
 * Supabase's edge runtime.
 */
export function createEmbedderFromEnv(env: Env, settings: KnowledgeSettings, deps: { sql?: Sql; logger?: Logger } = {}): Embedder | null {
  const wanted = settings.embeddings;
  if (!wanted) return null;
  if (wanted.provider === "supabase") {
    const embedder = createSupabaseEmbedder();
    if (!embedder) throw new ConfigError("EMBEDDINGS_MODEL=gte-small needs Supabase's edge runtime (Supabase.ai); unset it to search by full text only");
    return embedder;
  }
  const llm = llmSettingsFromEnv(env);
  if (!llm) throw new ConfigError(`EMBEDDINGS_MODEL=${wanted.model} needs OPENAI_API_KEY (and OPENAI_BASE_URL for a server other than OpenAI)`);
  const client = createLlmClient(llm, {
    recorder: deps.sql ? createLlmCallRecorder(deps.sql, deps.logger) : undefined,
    logger: deps.logger,
    breakerName: "embeddings",
  });
  return createOpenAiEmbedder(client, wanted.model, wanted.dimensions);
}
