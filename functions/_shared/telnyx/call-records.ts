// call.conversation.ended → one call_records row, tied to the organisation that owns the called
// number when it is a phone number we know. Stored before we answer 200: Telnyx redelivers (to the
// failover URL) when we do not, so nothing is lost; a redelivered event id is stored once.
import type { Sql } from "../db/client.ts";
import { toE164 } from "../phone/e164.ts";
import type { ConversationEndedEvent } from "./events.ts";
import { insertCallRecord, loadNumberConfig } from "./repository.ts";

export interface CallRecordResult {
  stored: boolean;
  orgId: string | null;
}

export async function recordConversationEnded(sql: Sql, event: ConversationEndedEvent): Promise<CallRecordResult> {
  const called = toE164(event.to, "US");
  const number = called ? await loadNumberConfig(sql, called) : null;
  const orgId = number?.org_id ?? null;
  const stored = await insertCallRecord(sql, {
    orgId,
    eventId: event.eventId,
    callControlId: event.callControlId,
    callSessionId: event.callSessionId,
    conversationId: event.conversationId,
    assistantId: event.assistantId,
    caller: toE164(event.from, number?.org.default_country ?? "US") ?? event.from,
    called: called ?? event.to,
    durationSec: event.durationSec,
    endReason: event.reason,
    occurredAt: event.occurredAt,
    payload: event.payload,
  });
  return { stored, orgId };
}
