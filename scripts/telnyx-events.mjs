// Telnyx's webhook events, field for field as Telnyx documents them: assistant.initialization from
// the dynamic-variables page, call.conversation.ended from the callback reference
// (developers.telnyx.com). The call simulator, the benchmarks and the tests all build their events
// here, so all three send what Telnyx sends. Ids are made up per event unless given.
import { randomUUID } from "node:crypto";

const newCallControlId = () => `v3:${randomUUID().replaceAll("-", "")}`;
const ASSISTANT_ID = "assistant_d9082b56-ba2d-4ad1-a50c-58661eb1463d";

/** The dynamic-variables request; `payload` adds or overrides payload fields. */
export function initializationEvent({ from, to, id = `event_${randomUUID()}`, now = new Date(), payload = {} }) {
  return {
    data: {
      record_type: "event",
      id,
      event_type: "assistant.initialization",
      occurred_at: now.toISOString(),
      payload: {
        telnyx_conversation_channel: "phone_call",
        telnyx_agent_target: to,
        telnyx_end_user_target: from,
        telnyx_end_user_target_verified: false,
        call_control_id: newCallControlId(),
        assistant_id: ASSISTANT_ID,
        ...payload,
      },
    },
  };
}

/** The end of an AI conversation on a call. */
export function conversationEndedEvent({ from, to, id = randomUUID(), now = new Date(), durationSec = 93, reason = "user_hangup" }) {
  return {
    data: {
      record_type: "event",
      event_type: "call.conversation.ended",
      id,
      occurred_at: now.toISOString(),
      created_at: now.toISOString(),
      payload: {
        assistant_id: ASSISTANT_ID,
        call_control_id: newCallControlId(),
        call_leg_id: randomUUID(),
        call_session_id: randomUUID(),
        calling_party_type: "pstn",
        connection_id: "2694492062593582591",
        conversation_id: randomUUID(),
        duration_sec: durationSec,
        from,
        to,
        llm_model: "openai/gpt-4o",
        stt_model: "distil-whisper/distil-large-v2",
        tts_model_id: "Natural",
        tts_provider: "telnyx",
        tts_voice_id: "Marissa",
        reason,
      },
    },
  };
}
