// The LLM foundation, in one import:
//
//   llmSettingsFromEnv(env) → LlmSettings | null          settings.ts (null = no OPENAI_API_KEY: no LLM)
//   createLlmClient(settings, deps?) → LlmClient           client.ts
//     .complete({messages, tools?, toolChoice?, model?, temperature?, maxTokens?, stream?}, {signal?, deadlineMs?, record?})
//         → {text, refusal, toolCalls: [{id, name, arguments | null, parseError, rawArguments}], finishReason, usage, latencyMs, model}
//     .structured(zodSchema, {messages, name, description?, model?, temperature?}, opts) → the parsed, validated object
//     .embed({input: string[], model?, dimensions?}, opts) → {vectors, model, usage, latencyMs}
//   LlmError {code: LlmErrorCode, status, issues}            errors.ts (every failure; fall back on any)
//   createLlmCallRecorder(sql, logger?) → LlmCallRecorder   recorder.ts (llm_calls rows, batched, after the answer)
export { llmSettingsFromEnv, type LlmSettings } from "./settings.ts";
export {
  createLlmClient,
  type CallOptions,
  type CompleteRequest,
  type EmbedRequest,
  type LlmClient,
  type LlmClientDeps,
  type LlmCompletion,
  type LlmEmbeddings,
  type LlmMessage,
  type LlmTool,
  type LlmToolCall,
  type LlmToolChoice,
  type LlmUsage,
  type StructuredRequest,
} from "./client.ts";
export { isLlmError, LLM_ERROR_CODES, LlmError, type LlmErrorCode } from "./errors.ts";
export {
  createLlmCallRecorder,
  type LlmCallRecord,
  type LlmCallRecorder,
  LLM_PURPOSES,
  type LlmPurpose,
  type LlmRecordContext,
  truncateJson,
} from "./recorder.ts";
