// The one LLM client: the real `openai` SDK (Chat Completions and Embeddings), so any OpenAI-compatible
// server serves (OpenAI, Ollama, vLLM, llama.cpp), wrapped in the project's outbound policy. Runs under
// Deno (edge functions) and Node (tests).
//
//   const llm = createLlmClient(settings, { recorder, logger });          // settings: llmSettingsFromEnv
//   const r = await llm.complete({ messages, tools, stream: true }, { signal, deadlineMs: 2500, record });
//   r.text; r.toolCalls[0].name; r.toolCalls[0].arguments   // parsed object, or null with parseError
//   const draft = await llm.structured(DraftSchema, { name: "draft", messages }, { record });
//   const { vectors } = await llm.embed(["text"], { record });
//
// Every failure is an LlmError with a stable code (errors.ts); callers fall back on any of them.
//
// The policy (resilience/policy.ts), per client base URL (breaker "llm:<host>"):
//   * a deadline per call, `deadlineMs` or LLM_TIMEOUT_MS: the call ends with 'timeout' when it passes,
//     whatever is in flight (an attempt, a backoff sleep); the caller's AbortSignal ends it too;
//   * an attempt that runs into the deadline counts as a timed-out attempt for the breaker;
//   * retries (maxAttempts in all, default 2) on 5xx and lost connections only, never past the
//     deadline; 429 and other 4xx are not retried (a rate-limited turn should fall back, not wait);
//   * the breaker opens after breakerThreshold (default 5) consecutive retryable failures and then
//     refuses at once ('circuit_open') for halfOpenAfterMs (default 30 s).
// The SDK's own retries are off (maxRetries: 0).
//
// Streaming uses the SDK's raw chunk stream (create({stream: true})) and accumulates text and tool
// call deltas here: the SDK's chat.completions.stream() helper insists on fields (role, finish_reason
// in the last chunk) that some OpenAI-compatible servers leave out.
//
// Recording: with deps.recorder and a `record` context, every call (success or failure) becomes one
// llm_calls row after the answer (recorder.ts): request (messages, tools, params) and response
// truncated to sane sizes, tool calls, latency, tokens, error code.
import OpenAI from "openai";
import { z } from "zod";
import type { Logger } from "../log/logger.ts";
import { createOutboundPolicy, type OutboundPolicy, TaskCancelledError } from "../resilience/policy.ts";
import { isRetryableLlmFailure, LlmError, type LlmErrorCode, toLlmError } from "./errors.ts";
import { metrics } from "../observability/index.ts";
import { type LlmCallRecorder, type LlmRecordContext, truncateJson } from "./recorder.ts";
import type { LlmSettings } from "./settings.ts";

export type LlmMessage = OpenAI.Chat.ChatCompletionMessageParam;
export type LlmTool = OpenAI.Chat.ChatCompletionFunctionTool;
export type LlmToolChoice = OpenAI.Chat.ChatCompletionToolChoiceOption;

export interface LlmToolCall {
  id: string;
  name: string;
  /** The arguments parsed from JSON; null when they are not a JSON object (see parseError). */
  arguments: Record<string, unknown> | null;
  /** True when the model's arguments were not a JSON object. */
  parseError: boolean;
  /** The arguments exactly as the model sent them. */
  rawArguments: string;
}

export interface LlmUsage {
  promptTokens: number;
  completionTokens: number;
}

export interface LlmCompletion {
  /** The assistant's text; null when it only called tools (or refused). */
  text: string | null;
  /** The model's refusal, if it refused (complete() returns it; structured() throws 'refused'). */
  refusal: string | null;
  toolCalls: LlmToolCall[];
  finishReason: string | null;
  usage: LlmUsage | null;
  latencyMs: number;
  /** The model that answered (as the server names it). */
  model: string;
}

export interface CompleteRequest {
  messages: LlmMessage[];
  tools?: LlmTool[];
  toolChoice?: LlmToolChoice;
  /** Default: settings.model. */
  model?: string;
  /** Default: settings.temperature. */
  temperature?: number;
  maxTokens?: number;
  stream?: boolean;
}

export interface StructuredRequest {
  messages: LlmMessage[];
  /** The schema's name for the provider: 1-64 letters, digits, _ or -. */
  name: string;
  description?: string;
  model?: string;
  temperature?: number;
  maxTokens?: number;
}

export interface EmbedRequest {
  input: string[];
  /** Default: text-embedding-3-small. */
  model?: string;
  dimensions?: number;
}

export interface LlmEmbeddings {
  vectors: number[][];
  model: string;
  usage: { promptTokens: number } | null;
  latencyMs: number;
}

export interface CallOptions {
  /** The caller's signal (e.g. the request's): aborting it ends the call with 'timeout'. */
  signal?: AbortSignal;
  /** Deadline for this call, all attempts included. Default: settings.timeoutMs. */
  deadlineMs?: number;
  /** Record the call in llm_calls under this context (needs deps.recorder). */
  record?: LlmRecordContext;
}

export interface LlmClientDeps {
  recorder?: LlmCallRecorder;
  logger?: Logger;
  /** Attempts in all per call (1 = no retry). Default 2. */
  maxAttempts?: number;
  /** Consecutive failed attempts that open the breaker. Default 5. */
  breakerThreshold?: number;
  /** How long an open breaker refuses calls. Default 30 s. */
  halfOpenAfterMs?: number;
  /** The breaker's name; default "llm:<host of the base URL>". */
  breakerName?: string;
}

export interface LlmClient {
  readonly model: string;
  complete(request: CompleteRequest, options?: CallOptions): Promise<LlmCompletion>;
  structured<S extends z.ZodType>(schema: S, request: StructuredRequest, options?: CallOptions): Promise<z.infer<S>>;
  embed(request: EmbedRequest, options?: CallOptions): Promise<LlmEmbeddings>;
}

export const DEFAULT_EMBEDDING_MODEL = "text-embedding-3-small";
const SCHEMA_NAME = /^[a-zA-Z0-9_-]{1,64}$/;
/** An attempt is cut this long before the deadline so that the breaker sees it time out. */
const DEADLINE_MARGIN_MS = 5;

/** "llm:<host>" with only the characters a policy name allows. */
export function llmBreakerName(baseUrl: string | null): string {
  let host = "api.openai.com";
  try {
    if (baseUrl) host = new URL(baseUrl).host;
  } catch { /* the settings validated it; keep the default */ }
  return `llm:${host.replace(/[^a-z0-9_.:-]/gi, "_")}`.slice(0, 63);
}

/** The parsed arguments of a tool call: a JSON object, or null with parseError. */
export function parseToolArguments(raw: string): { arguments: Record<string, unknown> | null; parseError: boolean } {
  if (raw.trim() === "") return { arguments: {}, parseError: false };
  try {
    const v = JSON.parse(raw);
    if (v && typeof v === "object" && !Array.isArray(v)) return { arguments: v as Record<string, unknown>, parseError: false };
  } catch { /* fall through */ }
  return { arguments: null, parseError: true };
}

/** The JSON schema for response_format, and whether strict mode can take it (every field required). */
export function jsonSchemaFor(schema: z.ZodType): { schema: Record<string, unknown>; strict: boolean } {
  const { $schema: _drop, ...json } = z.toJSONSchema(schema, { io: "output", unrepresentable: "any" }) as Record<string, unknown>;
  let strict = true;
  const walk = (node: unknown) => {
    if (!node || typeof node !== "object") return;
    if (Array.isArray(node)) return node.forEach(walk);
    const n = node as Record<string, unknown>;
    if (n.type === "object" && n.properties && typeof n.properties === "object") {
      const keys = Object.keys(n.properties);
      const required = Array.isArray(n.required) ? n.required : [];
      if (keys.some((k) => !required.includes(k)) || n.additionalProperties !== false) strict = false;
    }
    Object.values(n).forEach(walk);
  };
  walk(json);
  return { schema: json, strict };
}

interface Outcome<T> {
  value: T;
  completion: LlmCompletion | null;
  /** What goes in llm_calls.response. */
  response: unknown;
}

export function createLlmClient(settings: LlmSettings, deps: LlmClientDeps = {}): LlmClient {
  if (!settings?.apiKey) throw new Error("createLlmClient: settings.apiKey is required (llmSettingsFromEnv returns null without it)");
  const openai = new OpenAI({
    apiKey: settings.apiKey,
    baseURL: settings.baseUrl ?? undefined,
    maxRetries: 0,
    // Our deadline ends calls; the SDK's own timeout is only a backstop.
    timeout: Math.max(settings.timeoutMs * 2, 60_000),
  });
  const policy: OutboundPolicy = createOutboundPolicy({
    name: deps.breakerName ?? llmBreakerName(settings.baseUrl),
    timeoutMs: settings.timeoutMs,
    maxAttempts: deps.maxAttempts ?? 2,
    initialDelayMs: 100,
    maxDelayMs: 1000,
    breakerThreshold: deps.breakerThreshold ?? 5,
    halfOpenAfterMs: deps.halfOpenAfterMs ?? 30_000,
    isRetryable: isRetryableLlmFailure,
    logger: deps.logger,
  });

  /**
   * Runs one call through the policy within its deadline, then `finish` (validation outside the
   * policy: a bad answer is not retried and does not count against the breaker), then records it.
   */
  async function run<T>(
    options: CallOptions,
    meta: { model: string; request: unknown; streamed: boolean },
    attempt: (signal: AbortSignal) => Promise<Outcome<unknown>>,
    finish: (outcome: Outcome<unknown>) => T,
  ): Promise<T> {
    const started = performance.now();
    const createdAt = new Date();
    const deadlineMs = options.deadlineMs ?? settings.timeoutMs;
    if (!Number.isFinite(deadlineMs) || deadlineMs <= 0) throw new Error("LlmClient: deadlineMs must be positive");
    const deadline = AbortSignal.timeout(deadlineMs);
    const signal = options.signal ? AbortSignal.any([options.signal, deadline]) : deadline;
    const endsAt = started + deadlineMs;
    let outcome: Outcome<unknown> | null = null;
    try {
      outcome = await policy.execute(async ({ signal: attemptSignal }) => {
        const left = Math.floor(endsAt - performance.now() - DEADLINE_MARGIN_MS);
        // Not retryable, not counted: the attempt that ran into the deadline was counted already.
        if (left < 1) throw new LlmError("timeout", `no answer from the LLM within ${deadlineMs} ms`);
        // Cut the attempt just before the deadline, so it fails as a timed-out attempt (which the
        // breaker counts) rather than as the caller giving up (which it does not).
        const cut = AbortSignal.timeout(left);
        try {
          return await attempt(AbortSignal.any([attemptSignal, cut]));
        } catch (error) {
          if (cut.aborted && !attemptSignal.aborted) throw new TaskCancelledError("LLM attempt reached the deadline");
          throw error;
        }
      }, signal);
      const value = finish(outcome);
      save(outcome, null);
      return value;
    } catch (thrown) {
      const error = toLlmError(thrown, { timedOut: signal.aborted, deadlineMs });
      if (error.cause !== undefined && error.code === "bad_response") {
        // Not an answer we recognise: say what kind of error it was (never its text) to find bugs.
        deps.logger?.warn("llm call failed unexpectedly", { failure: (thrown as { name?: string })?.name ?? typeof thrown });
      }
      save(outcome, error);
      throw error;
    }

    function save(o: Outcome<unknown> | null, error: LlmError | null) {
      const c = o?.completion ?? null;
      // Counted for /metrics (the LLM error-rate alert reads it) whether or not the call is recorded.
      metrics.llmCall(error ? "error" : "ok", { prompt: c?.usage?.promptTokens ?? 0, completion: c?.usage?.completionTokens ?? 0 });
      if (!deps.recorder || !options.record) return;
      try {
        deps.recorder.record({
          context: options.record,
          model: c?.model ?? meta.model,
          request: meta.request,
          response: o ? truncateJson(o.response) : null,
          toolCalls: c && c.toolCalls.length > 0
            ? truncateJson(c.toolCalls.map((t) => ({ id: t.id, name: t.name, arguments: t.arguments ?? t.rawArguments })))
            : null,
          latencyMs: performance.now() - started,
          promptTokens: c?.usage?.promptTokens ?? null,
          completionTokens: c?.usage?.completionTokens ?? null,
          streamed: meta.streamed,
          errorCode: error?.code ?? null,
          errorMessage: error?.message ?? null,
          createdAt,
        });
      } catch (e) {
        deps.logger?.error("llm call not recorded", { error: e });
      }
    }
  }

  function chatBody(req: CompleteRequest & { responseFormat?: unknown }) {
    const body: Record<string, unknown> = {
      model: req.model ?? settings.model,
      messages: req.messages,
      temperature: req.temperature ?? settings.temperature,
    };
    if (req.tools && req.tools.length > 0) body.tools = req.tools;
    if (req.toolChoice !== undefined) body.tool_choice = req.toolChoice;
    if (req.maxTokens !== undefined) body.max_tokens = req.maxTokens;
    if (req.responseFormat !== undefined) body.response_format = req.responseFormat;
    return body;
  }

  function recordedRequest(body: Record<string, unknown>) {
    const { messages, tools, ...params } = body;
    return truncateJson({ messages, tools: tools ?? null, params });
  }

  async function createOnce(body: Record<string, unknown>, signal: AbortSignal, started: number): Promise<Outcome<unknown>> {
    const reply = await openai.chat.completions.create(
      { ...body, stream: false } as unknown as OpenAI.Chat.ChatCompletionCreateParamsNonStreaming,
      { signal },
    );
    const choice = (reply as Partial<OpenAI.Chat.ChatCompletion> | null)?.choices?.[0];
    if (!choice || !choice.message || typeof choice.message !== "object") {
      throw new LlmError("bad_response", "LLM answer has no message");
    }
    const m = choice.message;
    const toolCalls: LlmToolCall[] = (m.tool_calls ?? [])
      .filter((t): t is OpenAI.Chat.ChatCompletionMessageFunctionToolCall => t?.type === "function" || "function" in (t ?? {}))
      .map((t) => {
        const raw = typeof t.function?.arguments === "string" ? t.function.arguments : JSON.stringify(t.function?.arguments ?? {});
        return { id: String(t.id ?? ""), name: String(t.function?.name ?? ""), rawArguments: raw, ...parseToolArguments(raw) };
      });
    const completion: LlmCompletion = {
      text: typeof m.content === "string" ? m.content : null,
      refusal: typeof m.refusal === "string" && m.refusal !== "" ? m.refusal : null,
      toolCalls,
      finishReason: choice.finish_reason ?? null,
      usage: reply.usage ? { promptTokens: reply.usage.prompt_tokens, completionTokens: reply.usage.completion_tokens } : null,
      latencyMs: performance.now() - started,
      model: reply.model || String(body.model),
    };
    return {
      value: completion,
      completion,
      response: { message: { content: m.content ?? null, refusal: m.refusal ?? null, tool_calls: m.tool_calls ?? null }, finish_reason: choice.finish_reason ?? null, usage: reply.usage ?? null },
    };
  }

  async function streamOnce(body: Record<string, unknown>, signal: AbortSignal, started: number): Promise<Outcome<unknown>> {
    const stream = await openai.chat.completions.create(
      { ...body, stream: true, stream_options: { include_usage: true } } as unknown as OpenAI.Chat.ChatCompletionCreateParamsStreaming,
      { signal },
    );
    let text = "";
    let sawText = false;
    let refusal = "";
    let finishReason: string | null = null;
    let usage: LlmUsage | null = null;
    let model = "";
    let chunks = 0;
    const calls: { id: string; name: string; args: string }[] = [];
    for await (const chunk of stream) {
      chunks++;
      if (chunk?.model) model = chunk.model;
      if (chunk?.usage) usage = { promptTokens: chunk.usage.prompt_tokens, completionTokens: chunk.usage.completion_tokens };
      for (const choice of chunk?.choices ?? []) {
        if ((choice.index ?? 0) !== 0) continue;
        const d = choice.delta ?? {};
        if (typeof d.content === "string") {
          text += d.content;
          sawText ||= d.content !== "";
        }
        if (typeof d.refusal === "string") refusal += d.refusal;
        (d.tool_calls ?? []).forEach((tc, position) => {
          const i = typeof tc.index === "number" ? tc.index : position;
          const slot = (calls[i] ??= { id: "", name: "", args: "" });
          if (tc.id) slot.id = tc.id;
          if (tc.function?.name) slot.name = slot.name || tc.function.name;
          if (typeof tc.function?.arguments === "string") slot.args += tc.function.arguments;
        });
        if (choice.finish_reason) finishReason = choice.finish_reason;
      }
    }
    // The SDK ends the iteration quietly when the signal aborts: a cut-off stream is a timeout, not an answer.
    if (signal.aborted) throw signal.reason ?? new DOMException("Aborted", "AbortError");
    if (chunks === 0 || (!sawText && !refusal && calls.length === 0 && finishReason === null)) {
      throw new LlmError("bad_response", "LLM stream ended without an answer");
    }
    const toolCalls: LlmToolCall[] = calls
      .filter((c) => c !== undefined)
      .map((c) => ({ id: c.id, name: c.name, rawArguments: c.args, ...parseToolArguments(c.args) }));
    const completion: LlmCompletion = {
      text: sawText ? text : null,
      refusal: refusal || null,
      toolCalls,
      finishReason,
      usage,
      latencyMs: performance.now() - started,
      model: model || String(body.model),
    };
    return {
      value: completion,
      completion,
      response: {
        message: { content: completion.text, refusal: completion.refusal, tool_calls: toolCalls.length ? toolCalls.map((t) => ({ id: t.id, name: t.name, arguments: t.rawArguments })) : null },
        finish_reason: finishReason,
        usage: usage ? { prompt_tokens: usage.promptTokens, completion_tokens: usage.completionTokens } : null,
        chunks,
      },
    };
  }

  function complete(request: CompleteRequest, options: CallOptions = {}): Promise<LlmCompletion> {
    const body = chatBody(request);
    const started = performance.now();
    const streamed = request.stream === true;
    return run(
      options,
      { model: String(body.model), request: recordedRequest({ ...body, stream: streamed }), streamed },
      (signal) => (streamed ? streamOnce(body, signal, started) : createOnce(body, signal, started)),
      (o) => o.value as LlmCompletion,
    );
  }

  function structured<S extends z.ZodType>(schema: S, request: StructuredRequest, options: CallOptions = {}): Promise<z.infer<S>> {
    if (!SCHEMA_NAME.test(request.name)) throw new Error("LlmClient.structured: name must be 1-64 letters, digits, _ or -");
    const json = jsonSchemaFor(schema);
    const body = chatBody({
      messages: request.messages,
      model: request.model,
      temperature: request.temperature,
      maxTokens: request.maxTokens,
      responseFormat: {
        type: "json_schema",
        json_schema: {
          name: request.name,
          ...(request.description ? { description: request.description } : {}),
          schema: json.schema,
          strict: json.strict,
        },
      },
    });
    const started = performance.now();
    return run(
      options,
      { model: String(body.model), request: recordedRequest(body), streamed: false },
      (signal) => createOnce(body, signal, started),
      (o) => {
        const c = o.completion!;
        if (c.refusal) throw new LlmError("refused", "the model refused to answer");
        if (c.text === null || c.text.trim() === "") throw new LlmError("bad_response", "LLM answer has no content");
        let parsed: unknown;
        try {
          parsed = JSON.parse(c.text);
        } catch {
          throw new LlmError("bad_response", c.finishReason === "length" ? "LLM answer was cut off (length)" : "LLM answer is not valid JSON");
        }
        const result = schema.safeParse(parsed);
        if (!result.success) {
          const issues = result.error.issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`).slice(0, 20);
          throw new LlmError("bad_response", "LLM answer does not match the schema", { issues });
        }
        return result.data as z.infer<S>;
      },
    );
  }

  function embed(request: EmbedRequest, options: CallOptions = {}): Promise<LlmEmbeddings> {
    if (!Array.isArray(request.input) || request.input.length === 0) throw new Error("LlmClient.embed: input must be a non-empty array");
    const model = request.model ?? DEFAULT_EMBEDDING_MODEL;
    const body: Record<string, unknown> = { model, input: request.input };
    if (request.dimensions !== undefined) body.dimensions = request.dimensions;
    const started = performance.now();
    return run(
      options,
      { model, request: truncateJson({ input: request.input, params: { model, dimensions: request.dimensions ?? null } }, 2000, 32_000), streamed: false },
      async (signal) => {
        const reply = await openai.embeddings.create(body as unknown as OpenAI.EmbeddingCreateParams, { signal });
        const data = Array.isArray(reply?.data) ? [...reply.data].sort((a, b) => a.index - b.index) : null;
        if (!data || data.length !== request.input.length) throw new LlmError("bad_response", "LLM embeddings answer has the wrong number of vectors");
        const vectors = data.map((d) => Array.from(d.embedding as ArrayLike<number>));
        const usage = reply.usage ? { promptTokens: reply.usage.prompt_tokens } : null;
        const value: LlmEmbeddings = { vectors, model: reply.model || model, usage, latencyMs: performance.now() - started };
        const completion: LlmCompletion = {
          text: null, refusal: null, toolCalls: [], finishReason: null,
          usage: usage ? { promptTokens: usage.promptTokens, completionTokens: 0 } : null,
          latencyMs: value.latencyMs, model: value.model,
        };
        return { value, completion, response: { count: vectors.length, dimensions: vectors[0]?.length ?? 0, usage: reply.usage ?? null } };
      },
      (o) => o.value as LlmEmbeddings,
    );
  }

  return { model: settings.model, complete, structured, embed };
}

export type { LlmErrorCode };
