// The three things the bot (or a button, or a person) can do to a conversation, one service each,
// the same code whichever brain asked. Each is idempotent in the database (see
// 20261130000200_chat_pipeline.sql): a second hand-over request leaves the queued conversation as
// it is, a second callback request returns the callback already scheduled, a second close changes
// nothing. They report what happened as ActionOutcome values.
import type { Sql } from "../../db/client.ts";
import { toLocalIso } from "../callback/time.ts";
import type { ActionOutcome, ActionSource } from "../types.ts";

export interface HandoffRequest {
  conversationId: string;
  priority: number;
  summary: string | null;
  source: ActionSource;
  messageId?: number | null;
  reason?: string | null;
}

export interface CallbackRequest {
  conversationId: string;
  scheduledFor: Date;
  timezone: string;
  phone: string;
  subject: string;
  description: string;
  requestedText: string | null;
  customerName: string | null;
  customerEmail: string | null;
  source: ActionSource;
  messageId?: number | null;
}

export interface CloseRequest {
  conversationId: string;
  reason: string | null;
  source: ActionSource;
  messageId?: number | null;
}

/** The customer left a live session with a person ("end chat"): the session ends, the bot takes over. */
export interface EndLiveSessionRequest {
  conversationId: string;
  messageId?: number | null;
}

export interface Actions {
  endLiveSession(request: EndLiveSessionRequest): Promise<{ changed: boolean; session_id: string | null }>;
  requestHandoff(request: HandoffRequest): Promise<ActionOutcome & { type: "handoff_requested" }>;
  scheduleCallback(request: CallbackRequest): Promise<ActionOutcome & { type: "callback_scheduled" }>;
  closeConversation(request: CloseRequest): Promise<ActionOutcome & { type: "conversation_closed" }>;
}

class ActionError extends Error {
  constructor(readonly code: string) {
    super(`action failed: ${code}`);
    this.name = "ActionError";
  }
}

function checked<T extends Record<string, unknown>>(result: T | null): T {
  if (!result) throw new ActionError("no_result");
  if (typeof result.error === "string") throw new ActionError(result.error);
  return result;
}

export function createActions(sql: Sql): Actions {
  return {
    async endLiveSession(r) {
      // 20261130000400_human_agents.sql: ends the session as customer_ended, conversation back to 'bot'.
      const [{ result }] = await sql`
        select public.agent_customer_end(${r.conversationId}::uuid, ${r.messageId ?? null}::bigint) as result`;
      const out = checked(result);
      return { changed: out.changed === true, session_id: out.session_id ?? null };
    },

    async requestHandoff(r) {
      const [{ result }] = await sql`
        select public.chat_request_handoff(${r.conversationId}::uuid, ${r.priority}::smallint, ${r.summary},
          ${r.source}, ${r.messageId ?? null}::bigint, ${r.reason ?? null}) as result`;
      const out = checked(result);
      return {
        type: "handoff_requested",
        changed: out.changed,
        status: out.status,
        priority: out.priority,
        summary: out.summary ?? null,
      };
    },

    async scheduleCallback(r) {
      const payload = {
        scheduled_for: r.scheduledFor.toISOString(),
        timezone: r.timezone,
        phone: r.phone,
        subject: r.subject,
        description: r.description,
        requested_text: r.requestedText,
        customer_name: r.customerName,
        customer_email: r.customerEmail,
      };
      const [{ result }] = await sql`
        select public.chat_schedule_callback(${r.conversationId}::uuid, ${sql.json(payload)}, ${r.source},
          ${r.messageId ?? null}::bigint) as result`;
      const out = checked(result);
      const cb = out.callback;
      return {
        type: "callback_scheduled",
        changed: out.created,
        id: cb.id,
        // In the customer's zone, with its offset: what they asked for, as they would read it.
        scheduled_for: toLocalIso(new Date(cb.scheduled_for), cb.timezone),
        timezone: cb.timezone,
        phone: cb.phone,
        subject: cb.subject,
      };
    },

    async closeConversation(r) {
      const [{ result }] = await sql`
        select public.chat_close_conversation(${r.conversationId}::uuid, ${r.reason}, ${r.source},
          ${r.messageId ?? null}::bigint) as result`;
      const out = checked(result);
      return { type: "conversation_closed", changed: out.changed, reason: r.reason };
    },
  };
}
