// Types for scripts/stand-ins/openai-server.mjs (used from TypeScript by tests and benchmarks).

export interface StandInToolCall {
  name: string;
  /** An object (serialised as JSON) or a raw string sent as is (e.g. broken JSON). */
  arguments?: unknown;
  id?: string;
}

interface ReplyTiming {
  /** Wait this long before the first byte. */
  delayMs?: number;
  /** Wait this long between streamed chunks. */
  chunkDelayMs?: number;
  finishReason?: "stop" | "length" | "tool_calls" | "content_filter";
  usage?: { prompt_tokens?: number; completion_tokens?: number };
  headers?: Record<string, string>;
}

export type StandInReply = ReplyTiming & (
  | { text: string; toolCalls?: StandInToolCall[] }
  | { toolCalls: StandInToolCall[]; text?: string }
  | { json: unknown }
  | { raw: string }
  | { refusal: string }
  | { status: number; body?: unknown }
  | { hang: true }
  | Record<string, never>
);

export interface StandInRequestInfo {
  endpoint: "chat" | "embeddings";
  /** 0 for the first request since the responder was set (or the server started), then 1, 2, ... */
  index: number;
}

/** The parsed JSON body of a request (chat completions or embeddings). */
// deno-lint-ignore no-explicit-any
export type StandInRequestBody = Record<string, any>;

export type StandInResponder = (
  body: StandInRequestBody,
  info: StandInRequestInfo,
) => StandInReply | undefined | Promise<StandInReply | undefined>;

export interface RecordedRequest {
  method: string;
  path: string;
  /** Lower-cased header names. */
  headers: Record<string, string | undefined>;
  body: StandInRequestBody | null;
}

export interface OpenAiServer {
  /** Base URL ending in /v1: what OPENAI_BASE_URL takes. */
  url: string;
  port: number;
  /** Every request received, in order. */
  requests: RecordedRequest[];
  /** Replaces the responder (none: the default, which echoes the last user message). */
  setResponder(fn?: StandInResponder): void;
  close(): Promise<void>;
}

export declare function startOpenAiServer(options?: {
  port?: number;
  host?: string;
  /** When set, requests without `Authorization: Bearer <apiKey>` get OpenAI's 401. */
  apiKey?: string;
  respond?: StandInResponder;
  /** The model named in replies when the request names none. */
  model?: string;
  /** Embedding size when the request gives no `dimensions`. Default 256. */
  embeddingDimensions?: number;
}): Promise<OpenAiServer>;

/** The deterministic unit vector the server returns for `text`. */
export declare function standInEmbedding(text: string, dimensions?: number): number[];
