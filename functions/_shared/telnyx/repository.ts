// The webhook's database reads and writes. Each read is one round trip to a SQL function that
// returns jsonb (supabase/migrations/*_dispatcher_lookup.sql).
import type { Sql } from "../db/client.ts";

export interface OrgInfo {
  name: string;
  timezone: string;
  currency: string;
  locale: string;
  default_country: string;
}

export interface DispatcherConfig {
  company_name: string;
  agent_name: string;
  greeting_message: string | null;
  instructions: string | null;
  timezone: string | null;
  business_hours: Record<string, unknown>;
  default_variables: Record<string, unknown>;
}

export interface NumberConfig {
  phone_number_id: string;
  org_id: string;
  enabled: boolean;
  org: OrgInfo;
  config: DispatcherConfig | null;
}

export interface JobSummary {
  services: unknown;
  date: string | null;
}

export interface ClientSummary {
  id: string;
  name: string;
  email: string | null;
  job_count: number;
  last_job: JobSummary | null;
  next_job: JobSummary | null;
  balance: number;
}

export type CallerContext =
  | { matches: 0 }
  | { matches: 1; client: ClientSummary }
  | { matches: 2 };

export async function loadNumberConfig(sql: Sql, calledE164: string): Promise<NumberConfig | null> {
  const [row] = await sql`select public.dispatcher_config(${calledE164}) as config`;
  return (row?.config ?? null) as NumberConfig | null;
}

export async function loadCallerContext(sql: Sql, orgId: string, callerE164: string): Promise<CallerContext> {
  const [row] = await sql`select public.caller_context(${orgId}, ${callerE164}) as context`;
  return row.context as CallerContext;
}

export interface CallRecordInput {
  orgId: string | null;
  eventId: string;
  callControlId: string | null;
  callSessionId: string | null;
  conversationId: string | null;
  assistantId: string | null;
  caller: string | null;
  called: string | null;
  durationSec: number | null;
  endReason: string | null;
  occurredAt: string | null;
  payload: Record<string, unknown>;
}

/** Who the audit trail names for writes this function makes (see log_audit_event()). */
export const AUDIT_ACTOR = "telnyx-webhook";

/**
 * Stores a call.conversation.ended event once; returns false when it was already stored. A trigger
 * turns the row into a phone conversation, whose audit row names this function as the actor.
 */
export async function insertCallRecord(sql: Sql, record: CallRecordInput): Promise<boolean> {
  const occurredAt = record.occurredAt && !Number.isNaN(Date.parse(record.occurredAt)) ? record.occurredAt : null;
  return await sql.begin(async (tx) => {
    await tx`select set_config('app.actor', ${AUDIT_ACTOR}, true)`;
    const rows = await tx`
      insert into public.call_records (org_id, provider, event_id, call_control_id, call_session_id,
        provider_conversation_id, assistant_id, caller, called, duration_sec, end_reason, occurred_at, payload)
      values (${record.orgId}, 'telnyx', ${record.eventId}, ${record.callControlId}, ${record.callSessionId},
        ${record.conversationId}, ${record.assistantId}, ${record.caller}, ${record.called}, ${record.durationSec},
        ${record.endReason}, ${occurredAt}, ${JSON.stringify(record.payload)}::text::jsonb)
      on conflict (provider, event_id) do nothing
      returning id`;
    return rows.length === 1;
  });
}

export interface WebhookLogInput {
  orgId: string | null;
  source: string;
  eventType: string | null;
  eventId: string | null;
  requestId: string;
  statusCode: number;
  outcome: string;
  durationMs: number;
  callerMasked: string | null;
  calledMasked: string | null;
  errorCode: string | null;
}

/**
 * Writes many log rows in one statement. The commit does not wait for the WAL flush: these rows are
 * diagnostics, and a crash of the database server may lose the last few hundred milliseconds of them,
 * never an event we accepted (call records are committed normally before we answer).
 */
export async function insertWebhookLogs(sql: Sql, logs: WebhookLogInput[]): Promise<void> {
  if (logs.length === 0) return;
  const rows = logs.map((log) => ({
    org_id: log.orgId,
    source: log.source,
    event_type: log.eventType,
    event_id: log.eventId,
    request_id: log.requestId,
    status_code: log.statusCode,
    outcome: log.outcome,
    duration_ms: log.durationMs,
    caller_masked: log.callerMasked,
    called_masked: log.calledMasked,
    error_code: log.errorCode,
  }));
  await sql.begin(async (tx) => {
    await tx`set local synchronous_commit = off`;
    await tx`insert into public.webhook_logs ${tx(rows)}`;
  });
}
