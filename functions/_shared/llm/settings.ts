// LLM settings from the environment, validated once with zod. The LLM is on only when OPENAI_API_KEY
// is set (any non-empty value for Ollama, vLLM or llama.cpp, which ignore it); without it callers use
// their rule-based path. Malformed values throw ConfigError (fail closed), even when the key is unset.
//
//   const llm = llmSettingsFromEnv(env);   // LlmSettings | null
//
//   OPENAI_API_KEY    the key; unset or empty = no LLM
//   OPENAI_BASE_URL   an OpenAI-compatible server, e.g. http://127.0.0.1:11434/v1 (default: OpenAI)
//   OPENAI_MODEL      default model of chat and structured calls (default gpt-4o-mini)
//   LLM_TIMEOUT_MS    per-turn deadline of one call, retries included (default 8000)
//   LLM_TEMPERATURE   0-2 (default 0.2)
import { z } from "zod";
import { type Env, envInt, parseEnv } from "../config/env.ts";

export const DEFAULT_LLM_MODEL = "gpt-4o-mini";
export const DEFAULT_LLM_TIMEOUT_MS = 8000;
export const DEFAULT_LLM_TEMPERATURE = 0.2;

export interface LlmSettings {
  apiKey: string;
  /** Base URL of the API, ending in /v1 for most servers; null = OpenAI's. */
  baseUrl: string | null;
  model: string;
  /** Deadline of one call (all attempts) unless the caller gives its own. */
  timeoutMs: number;
  temperature: number;
}

const schema = z.object({
  OPENAI_API_KEY: z.string().optional().transform((v) => v?.trim() || null),
  OPENAI_BASE_URL: z
    .string()
    .optional()
    .transform((v) => v?.trim() || null)
    .refine((v) => v === null || /^https?:\/\/[^\s]+$/i.test(v), "must be an http(s) URL"),
  OPENAI_MODEL: z
    .string()
    .optional()
    .transform((v) => v?.trim() || DEFAULT_LLM_MODEL)
    .refine((v) => v.length <= 200, "must be at most 200 characters"),
  LLM_TIMEOUT_MS: envInt(DEFAULT_LLM_TIMEOUT_MS, 100, 600_000),
  LLM_TEMPERATURE: z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v.trim() === "") return DEFAULT_LLM_TEMPERATURE;
      const n = Number(v);
      if (!Number.isFinite(n) || n < 0 || n > 2) {
        ctx.addIssue({ code: "custom", message: "must be a number between 0 and 2" });
        return z.NEVER;
      }
      return n;
    }),
});

/** The LLM settings, or null when no OPENAI_API_KEY is set. Throws ConfigError on malformed values. */
export function llmSettingsFromEnv(env: Env): LlmSettings | null {
  const s = parseEnv(schema, env);
  if (!s.OPENAI_API_KEY) return null;
  return {
    apiKey: s.OPENAI_API_KEY,
    baseUrl: s.OPENAI_BASE_URL ? s.OPENAI_BASE_URL.replace(/\/+$/, "") : null,
    model: s.OPENAI_MODEL,
    timeoutMs: s.LLM_TIMEOUT_MS,
    temperature: s.LLM_TEMPERATURE,
  };
}
