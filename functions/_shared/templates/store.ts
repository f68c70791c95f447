// The builder's reads and writes, one round trip each (SQL in migration 20261130000600).
import type { Sql } from "../db/client.ts";
import { AppError } from "../http/errors.ts";
import type { BuilderState, Draft } from "./draft.ts";
import { normaliseDraft } from "./draft.ts";
import type { Memory } from "./guided.ts";

export type Mode = "guided" | "llm";

export interface StoredSession {
  id: string;
  orgId: string;
  state: BuilderState;
  mode: Mode;
  turns: number;
  lastAction: string | null;
  createdAt: string;
  updatedAt: string;
  memory: Memory;
  draft: Draft;
  /** The latest draft version's row, or null before the first. */
  latest: { version: number; payload: Record<string, unknown>; validation: Record<string, unknown>; created_at: string } | null;
  messages: { turn: number; role: "user" | "assistant"; content: string; state: BuilderState | null; created_at: string }[];
  submissions: Record<string, unknown>[];
}

export async function createSession(sql: Sql, orgId: string, mode: Mode): Promise<string> {
  const [row] = await sql<{ id: string }[]>`
    insert into public.template_sessions (org_id, mode) values (${orgId}, ${mode}) returning id`;
  return row.id;
}

export async function loadSession(sql: Sql, sessionId: string, orgId: string): Promise<StoredSession | null> {
  const [row] = await sql<{ state: Record<string, any> | null }[]>`
    select public.template_session_state(${sessionId}::uuid, ${orgId}::uuid) as state`;
  const s = row?.state;
  if (!s) return null;
  const session = s.session;
  return {
    id: session.id,
    orgId: session.org_id,
    state: session.state,
    mode: session.mode,
    turns: session.turns,
    lastAction: session.last_action,
    createdAt: session.created_at,
    updatedAt: session.updated_at,
    memory: s.memory ?? {},
    draft: normaliseDraft(s.draft?.draft ?? null),
    latest: s.draft ? { version: s.draft.version, payload: s.draft.payload, validation: s.draft.validation, created_at: s.draft.created_at } : null,
    messages: s.messages ?? [],
    submissions: s.submissions ?? [],
  };
}

export interface TurnWrite {
  sessionId: string;
  orgId: string;
  expectedTurns: number;
  userMessage: string;
  reply: string;
  state: BuilderState;
  draft: Draft;
  payload: Record<string, unknown>;
  validation: unknown;
  source: Mode;
  memory: Memory;
  lastAction: string;
}

/** Saves a turn; 409 CONFLICT when another turn of the session was saved since it was read. */
export async function saveTurn(sql: Sql, t: TurnWrite): Promise<{ turn: number; version: number | null }> {
  try {
    const [row] = await sql<{ result: { turn: number; version: number | null } }[]>`
      select public.record_template_turn(
        ${t.sessionId}::uuid, ${t.orgId}::uuid, ${t.expectedTurns},
        ${t.userMessage}, ${t.reply.slice(0, 8000)}, ${t.state},
        ${sql.json(t.draft as never)}::jsonb, ${sql.json(t.payload as never)}::jsonb, ${sql.json(t.validation as never)}::jsonb,
        ${t.source}, ${sql.json(t.memory as never)}::jsonb, ${t.lastAction.slice(0, 100)}) as result`;
    return row.result;
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (code === "40001") throw new AppError("CONFLICT", 409, "The session moved on while this message was handled: reload it and send again");
    if (code === "P0002") throw new AppError("NOT_FOUND", 404, "No such session");
    throw error;
  }
}

export async function listDrafts(sql: Sql, sessionId: string, orgId: string): Promise<Record<string, unknown>[]> {
  return await sql`
    select version, source, draft, payload, validation, created_at from public.template_drafts
    where session_id = ${sessionId} and org_id = ${orgId} order by version`;
}

/** The session's LLM calls from public.llm_calls (purpose 'template'), oldest first; [] when that
 *  table does not exist (the LLM foundation's migration not applied). */
export async function listLlmCalls(sql: Sql, sessionId: string, orgId: string): Promise<Record<string, unknown>[]> {
  const [exists] = await sql<{ ok: boolean }[]>`select to_regclass('public.llm_calls') is not null as ok`;
  if (!exists.ok) return [];
  return await sql`
    select id, model, request, response, latency_ms, prompt_tokens, completion_tokens, error_code, error_message, created_at
    from public.llm_calls
    where org_id = ${orgId} and purpose = 'template' and subject_id = ${sessionId}
    order by created_at, id limit 200`;
}

export async function loadAccount(sql: Sql, orgId: string): Promise<{ wabaId: string; token: string } | null> {
  const [row] = await sql<{ waba_id: string; access_token: string }[]>`
    select waba_id, access_token from public.whatsapp_template_accounts where org_id = ${orgId}`;
  return row ? { wabaId: row.waba_id, token: row.access_token } : null;
}

export interface SubmissionClaim {
  id: string;
  status: string;
  created: boolean;
  meta_template_id: string | null;
  error: Record<string, unknown> | null;
}

export async function beginSubmission(
  sql: Sql, s: { sessionId: string; orgId: string; version: number; wabaId: string; payload: Record<string, unknown> },
): Promise<SubmissionClaim> {
  const [row] = await sql<{ r: SubmissionClaim }[]>`
    select public.begin_template_submission(${s.sessionId}::uuid, ${s.orgId}::uuid, ${s.version}, ${s.wabaId},
      ${sql.json(s.payload as never)}::jsonb) as r`;
  return row.r;
}

export async function finishSubmission(
  sql: Sql, id: string, r: { metaTemplateId: string | null; status: string; category: string | null; error: Record<string, unknown> | null },
): Promise<Record<string, unknown> | null> {
  const [row] = await sql<{ r: Record<string, unknown> | null }[]>`
    select public.finish_template_submission(${id}::uuid, ${r.metaTemplateId}, ${r.status}, ${r.category},
      ${r.error ? sql.json(r.error as never) : null}::jsonb) as r`;
  return row.r;
}
