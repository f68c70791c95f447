// One turn of the builder, whichever drives it: the guided flow (pure, here) or the model
// (llm-flow.ts). Both end the same way: assess the draft (missing fields, validator, state) and
// compose the reply from that state.
import { assess, type Assessment, type BuilderState, type Draft, type Field } from "./draft.ts";
import { guidedTurn, type Memory } from "./guided.ts";
import { composeReply } from "./replies.ts";

export interface SessionSnapshot {
  state: BuilderState;
  draft: Draft;
  memory: Memory;
}

export interface TurnResult {
  draft: Draft;
  memory: Memory;
  state: BuilderState;
  missing: Field[];
  payload: Record<string, unknown>;
  validation: Assessment["validation"];
  reply: string;
  lastAction: string;
}

/** Finishes a turn: the state from the draft, the reply from the state. */
export function concludeTurn(
  session: SessionSnapshot,
  draft: Draft,
  memory: Memory,
  confirmed: boolean,
  lastAction: string,
  notes: string[],
  reply?: (a: Assessment) => string,
): TurnResult {
  // A final template stays final while nothing in it changes.
  const unchanged = JSON.stringify(draft) === JSON.stringify(session.draft);
  const a = assess(draft, confirmed || (session.state === "final" && unchanged));
  const pending = a.missing.slice(0, 1);
  const nextMemory: Memory = { ...memory, pending, last_action: lastAction };
  return {
    draft,
    memory: nextMemory,
    state: a.state,
    missing: a.missing,
    payload: a.payload,
    validation: a.validation,
    reply: reply ? reply(a) : composeReply(a, draft, nextMemory, notes),
    lastAction,
  };
}

export function guidedConversationTurn(session: SessionSnapshot, message: string): TurnResult {
  const out = guidedTurn({ draft: session.draft, memory: session.memory, state: session.state, message });
  return concludeTurn(session, out.draft, out.memory, out.confirmed, out.lastAction, out.notes);
}
