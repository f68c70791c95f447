// Writes llm_calls rows after the answer: the client hands each finished call (success or failure)
// to record(), which returns at once; rows are batched (runtime/batcher.ts) into one INSERT per batch
// and registered as background work, so the caller's reply is never delayed and, on Supabase, the
// isolate stays alive until they are written. A failed write is logged (never thrown to the caller).
//
//   const recorder = createLlmCallRecorder(sql, logger);
//   const llm = createLlmClient(settings, { recorder });
//   await llm.complete({ messages }, { record: { orgId, conversationId, purpose: "chat" } });
//
// A row naming an unknown organisation is dropped by the INSERT (not the whole batch); a
// conversation that is not the organisation's (or is gone) is stored as null.
import type { Sql } from "../db/client.ts";
import type { Logger } from "../log/logger.ts";
import { createBatcher } from "../runtime/batcher.ts";
import type { LlmErrorCode } from "./errors.ts";

export const LLM_PURPOSES = ["chat", "template", "knowledge", "embedding"] as const;
export type LlmPurpose = (typeof LLM_PURPOSES)[number];

/** What a call belongs to: given by the caller of complete() / structured() / embed(). */
export interface LlmRecordContext {
  orgId: string;
  conversationId?: string | null;
  purpose: LlmPurpose;
  /** E.g. a template-builder session id. At most 200 characters. */
  subjectId?: string | null;
}

/** One finished call, as the client reports it (request/response already truncated). */
export interface LlmCallRecord {
  context: LlmRecordContext;
  model: string;
  request: unknown;
  response: unknown;
  toolCalls: unknown;
  latencyMs: number;
  promptTokens: number | null;
  completionTokens: number | null;
  streamed: boolean;
  errorCode: LlmErrorCode | null;
  errorMessage: string | null;
  createdAt: Date;
}

export interface LlmCallRecorder {
  /** Queues the row; returns at once. */
  record(call: LlmCallRecord): void;
}

export interface LlmCallRecorderOptions {
  /** Rows per INSERT at most. Default 100. */
  maxItems?: number;
  /** A batch is written this long after its first row. Default 50 ms. */
  maxDelayMs?: number;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

interface Row {
  org_id: string;
  conversation_id: string | null;
  purpose: string;
  subject_id: string | null;
  model: string;
  request: unknown;
  response: unknown;
  tool_calls: unknown;
  latency_ms: number;
  prompt_tokens: number | null;
  completion_tokens: number | null;
  streamed: boolean;
  error_code: string | null;
  error_message: string | null;
  created_at: string;
}

const nonNegativeInt = (n: number | null) => (n === null || !Number.isFinite(n) ? null : Math.max(0, Math.round(n)));

export function createLlmCallRecorder(sql: Sql, logger?: Logger, options: LlmCallRecorderOptions = {}): LlmCallRecorder {
  const batcher = createBatcher<Row>({
    maxItems: options.maxItems ?? 100,
    maxDelayMs: options.maxDelayMs ?? 50,
    logger,
    write: async (rows) => {
      // One statement per batch; rows travel as one jsonb parameter.
      await sql`
        insert into public.llm_calls (org_id, conversation_id, purpose, subject_id, model, request, response,
          tool_calls, latency_ms, prompt_tokens, completion_tokens, streamed, error_code, error_message, created_at)
        select t.org_id, c.id, t.purpose, t.subject_id, t.model, coalesce(t.request, '{}'::jsonb), t.response,
          t.tool_calls, t.latency_ms, t.prompt_tokens, t.completion_tokens, t.streamed, t.error_code,
          t.error_message, t.created_at
        from jsonb_to_recordset(${sql.json(rows as never)}::jsonb) as t(org_id uuid, conversation_id uuid,
          purpose text, subject_id text, model text, request jsonb, response jsonb, tool_calls jsonb,
          latency_ms int, prompt_tokens int, completion_tokens int, streamed boolean, error_code text,
          error_message text, created_at timestamptz)
        join public.orgs o on o.id = t.org_id
        left join public.conversations c on c.id = t.conversation_id and c.org_id = t.org_id`;
    },
  });

  return {
    record(call) {
      const ctx = call.context;
      if (!UUID.test(ctx.orgId) || !(LLM_PURPOSES as readonly string[]).includes(ctx.purpose)) {
        logger?.warn("llm call not recorded: bad record context", { purpose: String(ctx.purpose).slice(0, 20) });
        return;
      }
      batcher.add({
        org_id: ctx.orgId,
        conversation_id: ctx.conversationId && UUID.test(ctx.conversationId) ? ctx.conversationId : null,
        purpose: ctx.purpose,
        subject_id: ctx.subjectId ? String(ctx.subjectId).slice(0, 200) : null,
        model: call.model.slice(0, 200),
        request: call.request ?? {},
        response: call.response ?? null,
        tool_calls: call.toolCalls ?? null,
        latency_ms: Math.max(0, Math.round(call.latencyMs)),
        prompt_tokens: nonNegativeInt(call.promptTokens),
        completion_tokens: nonNegativeInt(call.completionTokens),
        streamed: call.streamed,
        error_code: call.errorCode,
        error_message: call.errorCode ? call.errorMessage?.slice(0, 500) ?? null : null,
        created_at: call.createdAt.toISOString(),
      });
    },
  };
}

/**
 * A copy of `value` fit for a jsonb column: strings longer than maxString are cut (with a note of
 * how much), and if the whole is still longer than maxTotal characters of JSON it becomes
 * {"truncated": true, "chars": n, "preview": "<the first maxTotal characters>"}.
 */
export function truncateJson(value: unknown, maxString = 4000, maxTotal = 64_000): unknown {
  const cut = (v: unknown, depth: number): unknown => {
    if (typeof v === "string") {
      const short = v.length > maxString ? `${v.slice(0, maxString)}…[${v.length - maxString} more characters]` : v;
      return storable(short);
    }
    if (v === null || typeof v !== "object") return typeof v === "bigint" ? String(v) : v;
    if (depth > 20) return "[too deep]";
    if (Array.isArray(v)) return v.map((x) => cut(x, depth + 1));
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) if (x !== undefined) out[storable(k)] = cut(x, depth + 1);
    return out;
  };
  const copy = cut(value, 0);
  const json = JSON.stringify(copy) ?? "null";
  if (json.length <= maxTotal) return copy;
  return { truncated: true, chars: json.length, preview: storable(json.slice(0, maxTotal)) };
}

/** jsonb refuses NUL characters and lone UTF-16 surrogates (which a cut may leave): drop / replace them. */
function storable(s: string): string {
  return s.replaceAll("\0", "").replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, "\uFFFD");
}
