// One error type for every failed LLM call, with a stable code. Callers branch on the code (the chat
// bot falls back to its rule-based brain on any of them); llm_calls.error_code stores the same code.
// Messages are our own words: never a key, a header or the provider's raw error text.
//
//   timeout       the deadline (or the caller's signal) ended the call, or an attempt timed out
//   rate_limited  the provider answered 429
//   server_error  the provider answered 5xx (after the retries the deadline allowed)
//   circuit_open  the breaker for this provider is open after repeated failures: not even tried
//   network       no HTTP answer (connection refused or reset, DNS)
//   unauthorized  401/403: the key is wrong or lacks access
//   bad_request   another 4xx (unknown model, context too long, ...)
//   bad_response  an answer we cannot use: not the API's shape, invalid JSON or a schema mismatch
//   refused       the model refused (message.refusal) a structured request
import OpenAI from "openai";
import { BrokenCircuitError, TaskCancelledError } from "../resilience/policy.ts";

export const LLM_ERROR_CODES = [
  "timeout",
  "rate_limited",
  "server_error",
  "circuit_open",
  "network",
  "unauthorized",
  "bad_request",
  "bad_response",
  "refused",
] as const;
export type LlmErrorCode = (typeof LLM_ERROR_CODES)[number];

export class LlmError extends Error {
  readonly code: LlmErrorCode;
  /** The provider's HTTP status, when it answered with an error. */
  readonly status: number | null;
  /** bad_response from a schema mismatch: "path: problem" per issue (no values from the reply). */
  readonly issues: string[];

  constructor(code: LlmErrorCode, message: string, options: { status?: number | null; issues?: string[]; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "LlmError";
    this.code = code;
    this.status = options.status ?? null;
    this.issues = options.issues ?? [];
  }
}

export function isLlmError(error: unknown): error is LlmError {
  return error instanceof LlmError;
}

/** The provider's HTTP status when the SDK got an error answer (not an abort or a lost connection). */
function httpStatusOf(error: unknown): number | null {
  if (error instanceof OpenAI.APIError && !(error instanceof OpenAI.APIUserAbortError)) {
    const status = error.status;
    if (typeof status === "number" && status >= 400 && status <= 599) return status;
  }
  return null;
}

function isConnectionError(error: unknown): boolean {
  return (error instanceof OpenAI.APIConnectionError && !(error instanceof OpenAI.APIConnectionTimeoutError)) ||
    error instanceof TypeError;
}

function isAbortLike(error: unknown): boolean {
  const name = (error as { name?: unknown } | null)?.name;
  return error instanceof OpenAI.APIUserAbortError || error instanceof OpenAI.APIConnectionTimeoutError ||
    name === "AbortError" || name === "TimeoutError";
}

/** True for failures worth another attempt and counted by the breaker: 5xx and no answer at all. */
export function isRetryableLlmFailure(error: unknown): boolean {
  const status = httpStatusOf(error);
  if (status !== null) return status >= 500;
  return isConnectionError(error);
}

/**
 * Turns whatever a call threw into an LlmError. `timedOut`: the deadline or the caller's signal has
 * fired (whatever the error says, the call ran out of time).
 */
export function toLlmError(error: unknown, context: { timedOut: boolean; deadlineMs: number }): LlmError {
  if (error instanceof LlmError) return error;
  if (error instanceof BrokenCircuitError) {
    return new LlmError("circuit_open", "LLM circuit breaker is open after repeated failures");
  }
  if (context.timedOut || error instanceof TaskCancelledError || isAbortLike(error)) {
    return new LlmError("timeout", `no answer from the LLM within ${context.deadlineMs} ms`);
  }
  const status = httpStatusOf(error);
  if (status !== null) {
    const code: LlmErrorCode = status === 429
      ? "rate_limited"
      : status >= 500
      ? "server_error"
      : status === 401 || status === 403
      ? "unauthorized"
      : "bad_request";
    return new LlmError(code, `LLM provider answered ${status}`, { status });
  }
  if (isConnectionError(error)) return new LlmError("network", "could not reach the LLM provider");
  return new LlmError("bad_response", "LLM provider sent an answer that could not be read", { cause: error });
}
