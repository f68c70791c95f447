import { describe, expect, it } from "vitest";
import { parseTelnyxEvent } from "../../../functions/_shared/telnyx/events.ts";
import { conversationEndedEvent, initializationEvent } from "../../support/telnyx-signing.ts";

describe("parseTelnyxEvent", () => {
  it("reads the documented assistant.initialization payload", () => {
    const event = parseTelnyxEvent(JSON.parse(initializationEvent("+15551234567", "+13128675309")));
    expect(event).toMatchObject({
      kind: "initialization",
      calledNumber: "+13128675309",
      callerNumber: "+15551234567",
      channel: "phone_call",
    });
  });

  it("treats a payload naming the called number as initialization whatever its event_type", () => {
    const body = { data: { event_type: "dynamic_variables", payload: { telnyx_agent_target: "+13128675309" } } };
    expect(parseTelnyxEvent(body)).toMatchObject({ kind: "initialization", callerNumber: null });
  });

  it("reads call.conversation.ended with its id, parties and duration", () => {
    const event = parseTelnyxEvent(JSON.parse(conversationEndedEvent("evt-1", "+13124287921", "+14165550100")));
    expect(event).toMatchObject({
      kind: "conversation_ended",
      eventId: "evt-1",
      from: "+13124287921",
      to: "+14165550100",
      durationSec: 93,
      reason: "user_hangup",
    });
  });

  it("calls anything without a data object malformed, and other events other", () => {
    expect(parseTelnyxEvent(null).kind).toBe("malformed");
    expect(parseTelnyxEvent({ payload: {} }).kind).toBe("malformed");
    expect(parseTelnyxEvent({ data: "x" }).kind).toBe("malformed");
    expect(parseTelnyxEvent({ data: { event_type: "call.conversation_insights.generated", payload: {} } }).kind).toBe("other");
  });

  it("ignores wrongly typed numbers instead of trusting them", () => {
    const body = { data: { event_type: "assistant.initialization", payload: { telnyx_agent_target: 13128675309, telnyx_end_user_target: { a: 1 } } } };
    expect(parseTelnyxEvent(body)).toMatchObject({ kind: "initialization", calledNumber: null, callerNumber: null });
  });
});
