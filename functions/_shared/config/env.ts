// Settings come from the environment, validated once with zod when a handler is built. A missing or
// malformed secret throws ConfigError naming every problem, so a function fails closed and says why.
import { z } from "zod";

export type Env = Record<string, string | undefined>;

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ConfigError";
  }
}

export function parseEnv<T extends z.ZodType>(schema: T, env: Env): z.infer<T> {
  const result = schema.safeParse(env);
  if (!result.success) {
    const problems = result.error.issues.map((i) => `${i.path.join(".") || "(env)"}: ${i.message}`);
    throw new ConfigError(`Invalid configuration: ${problems.join("; ")}`);
  }
  return result.data;
}

/** "true"/"1"/"yes" → true; anything else (or unset) → false. */
export const envFlag = z
  .string()
  .optional()
  .transform((v) => v !== undefined && ["1", "true", "yes", "on"].includes(v.trim().toLowerCase()));

/** A positive integer given as text, with a default. */
export const envInt = (fallback: number, min = 1, max = Number.MAX_SAFE_INTEGER) =>
  z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v.trim() === "") return fallback;
      const n = Number(v);
      if (!Number.isInteger(n) || n < min || n > max) {
        ctx.addIssue({ code: "custom", message: `must be an integer between ${min} and ${max}` });
        return z.NEVER;
      }
      return n;
    });

/** The database URL a function uses: SUPABASE_DB_URL on Supabase, DATABASE_URL elsewhere. */
export function databaseUrlFrom(env: Env): string | undefined {
  return env.SUPABASE_DB_URL || env.DATABASE_URL || undefined;
}
