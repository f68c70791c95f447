// Placeholder until the shared LLM client lands: no LLM, the rule-based brain answers.
import type { Env } from "../../config/env.ts";
import type { Sql } from "../../db/client.ts";
import type { Logger } from "../../log/logger.ts";
import type { LlmBrain } from "../turn.ts";

export function createLlmBrainFromEnv(_env: Env, _deps: { sql: Sql; logger: Logger }): LlmBrain | null {
  return null;
}
