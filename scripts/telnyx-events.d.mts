// Types for scripts/telnyx-events.mjs (used from TypeScript by the tests).
export interface TelnyxEvent {
  data: { record_type: string; id: string; event_type: string; occurred_at: string; payload: Record<string, unknown> };
}
export declare function initializationEvent(options: {
  from: string | undefined;
  to: string;
  id?: string;
  now?: Date;
  payload?: Record<string, unknown>;
}): TelnyxEvent;
export declare function conversationEndedEvent(options: {
  from: string;
  to: string;
  id?: string;
  now?: Date;
  durationSec?: number;
  reason?: string;
}): TelnyxEvent;
