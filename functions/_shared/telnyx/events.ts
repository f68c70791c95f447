// Telnyx webhook envelopes: {"data": {"record_type": "event", "id", "event_type", "occurred_at",
// "payload": {...}}}. Parsed leniently: Telnyx's own examples disagree on event_type for the
// dynamic-variables request ("assistant.initialization" in the docs, "dynamic_variables" in a Go
// example), so a payload that names the called number counts as one whatever its type.
import { z } from "zod";

const text = z.string().max(512);

const envelope = z.object({
  data: z.object({
    id: text.optional(),
    event_type: text.optional(),
    occurred_at: text.optional(),
    payload: z.record(z.string(), z.unknown()).optional(),
  }),
});

export interface InitializationEvent {
  kind: "initialization";
  eventId: string | null;
  calledNumber: string | null;
  callerNumber: string | null;
  channel: string | null;
  callControlId: string | null;
}

export interface ConversationEndedEvent {
  kind: "conversation_ended";
  eventId: string;
  occurredAt: string | null;
  payload: Record<string, unknown>;
  from: string | null;
  to: string | null;
  callControlId: string | null;
  callSessionId: string | null;
  conversationId: string | null;
  assistantId: string | null;
  durationSec: number | null;
  reason: string | null;
}

export interface OtherEvent {
  kind: "other";
  eventId: string | null;
  eventType: string | null;
}

export interface MalformedEvent {
  kind: "malformed";
  problem: string;
}

export type TelnyxEvent = InitializationEvent | ConversationEndedEvent | OtherEvent | MalformedEvent;

const str = (v: unknown): string | null => (typeof v === "string" && v.length <= 512 ? v : null);

export function parseTelnyxEvent(body: unknown): TelnyxEvent {
  const parsed = envelope.safeParse(body);
  if (!parsed.success) return { kind: "malformed", problem: "body is not a Telnyx event envelope" };
  const { id, event_type: eventType, occurred_at: occurredAt, payload = {} } = parsed.data.data;

  if (eventType === "call.conversation.ended") {
    if (!id) return { kind: "malformed", problem: "call.conversation.ended without an event id" };
    const duration = payload.duration_sec;
    return {
      kind: "conversation_ended",
      eventId: id,
      occurredAt: occurredAt ?? null,
      payload,
      from: str(payload.from),
      to: str(payload.to),
      callControlId: str(payload.call_control_id),
      callSessionId: str(payload.call_session_id),
      conversationId: str(payload.conversation_id),
      assistantId: str(payload.assistant_id),
      durationSec: typeof duration === "number" && Number.isFinite(duration) ? Math.round(duration) : null,
      reason: str(payload.reason),
    };
  }

  if (eventType === "assistant.initialization" || "telnyx_agent_target" in payload) {
    return {
      kind: "initialization",
      eventId: id ?? null,
      calledNumber: str(payload.telnyx_agent_target),
      callerNumber: str(payload.telnyx_end_user_target),
      channel: str(payload.telnyx_conversation_channel),
      callControlId: str(payload.call_control_id),
    };
  }

  return { kind: "other", eventId: id ?? null, eventType: eventType ?? null };
}
