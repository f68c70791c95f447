// The builder with a model: each turn sends the draft so far, what the validator said about it, the
// recent conversation and the user's message, and asks for structured output (ModelTurnSchema): the
// whole draft as the model now understands it, its reply, the fields it asks about and whether the
// user confirmed. The server trusts what the model extracted (it never overrides a field the model
// set); the validator's errors go back into the next prompt and into the reply, and the state and
// the closing line of the reply come from the server's assessment, so they always agree.
import { z } from "zod";
import { AppError } from "../http/errors.ts";
import { concludeTurn, type SessionSnapshot, type TurnResult } from "./conversation.ts";
import { type Assessment, type Draft, DraftSchema, FIELDS, normaliseDraft } from "./draft.ts";
import type { Memory } from "./guided.ts";
import { preview, questionFor } from "./replies.ts";
import { LIMITS } from "./validator.ts";

export const ModelTurnSchema = z.object({
  draft: DraftSchema,
  /** What to say to the user (the server adds the review or final line itself). */
  reply: z.string(),
  /** The fields the reply asks about. */
  asks_for: z.array(z.enum(FIELDS)),
  /** The user approved the draft shown in review as it is. */
  user_confirmed: z.boolean(),
});
export type ModelTurn = z.infer<typeof ModelTurnSchema>;

export interface ModelTurnContext {
  sessionId: string;
  orgId: string;
  requestId?: string;
  signal?: AbortSignal;
}

/** What the conversation needs from a model: one structured turn. Errors carry an LlmError-like `code`. */
export interface TemplateModel {
  readonly name: string;
  turn(messages: { role: "system" | "user" | "assistant"; content: string }[], ctx: ModelTurnContext): Promise<ModelTurn>;
}

/** The subset of the shared LLM client (functions/_shared/llm) this flow uses. */
export interface StructuredLlm {
  readonly model: string;
  structured<S extends z.ZodType>(
    schema: S,
    request: { messages: { role: "system" | "user" | "assistant"; content: string }[]; name: string; description?: string; temperature?: number },
    options?: { signal?: AbortSignal; record?: { orgId: string; purpose: "template"; subjectId?: string | null } },
  ): Promise<z.infer<S>>;
}

/** A TemplateModel on the shared LLM client; every call is recorded in llm_calls (purpose 'template'). */
export function createLlmTemplateModel(client: StructuredLlm, options: { temperature?: number } = {}): TemplateModel {
  return {
    name: client.model,
    turn: (messages, ctx) =>
      client.structured(ModelTurnSchema, {
        messages,
        name: "template_builder_turn",
        description: "The WhatsApp template draft after the user's message, and the reply",
        temperature: options.temperature,
      }, { signal: ctx.signal, record: { orgId: ctx.orgId, purpose: "template", subjectId: ctx.sessionId } }),
  };
}

export const SYSTEM_PROMPT = [
  "You help a business write a WhatsApp message template that Meta will approve.",
  "Fill in the draft from what the user says; keep every field they already gave unless they change it; leave unknown fields null.",
  "Never invent business details (names, links, phone numbers) the user did not give.",
  "Categories: UTILITY (non-promotional, expected by the user: reminders, order and account updates), MARKETING (offers, news), AUTHENTICATION (one-time passcodes: Meta's preset text, no body).",
  "language: a Meta code with an underscore, e.g. en_US, es, pt_BR. name: lowercase letters, digits and underscores.",
  `body: at most ${LIMITS.bodyLength} characters; variables {{1}}, {{2}}, ... numbered in order of appearance; never start or end the body with a variable; never put two variables next to each other; at least three words per variable. body_examples: one realistic example per variable, in order.`,
  `Header: optional, TEXT up to ${LIMITS.headerTextLength} characters with at most one variable, or LOCATION. Footer: optional, up to ${LIMITS.footerLength} characters, no variables.`,
  `Buttons: optional, up to ${LIMITS.buttonsTotal}; labels up to ${LIMITS.buttonText} characters; at most 2 URL and 1 PHONE_NUMBER; quick replies grouped together; a URL variable only at the end as {{1}} with an example.`,
  "wants_header / wants_footer / wants_buttons: true or false once the user has decided, else null. If the user said everything needed in one message, fill it all in.",
  "asks_for: the fields your reply asks about. Ask only for what is still missing, a few things at a time, in plain words.",
  "user_confirmed: true only when the user approves the draft they were shown, as it is.",
].join("\n");

export function buildMessages(session: SessionSnapshot & { history: { role: string; content: string }[] }, message: string, errors: string[]) {
  const context = {
    state: session.state,
    draft: session.draft,
    memory: { business_type: session.memory.business_type ?? null, description: session.memory.description ?? null },
    validator_errors: errors,
  };
  const history = session.history.slice(-12).map((m) => ({
    role: (m.role === "assistant" ? "assistant" : "user") as "assistant" | "user",
    content: m.content.slice(0, 2000),
  }));
  return [
    { role: "system" as const, content: SYSTEM_PROMPT },
    { role: "system" as const, content: `Current state (JSON): ${JSON.stringify(context)}` },
    ...history,
    { role: "user" as const, content: message },
  ];
}

/** The reply: the model's words, then what the state requires (so the reply matches it). */
export function llmReply(a: Assessment, turn: ModelTurn, draft: Draft, memory: Memory): string {
  const parts = [turn.reply.trim()].filter((s) => s.length > 0);
  if (a.state === "gathering") {
    if (a.validation.errors.length > 0) {
      parts.push(`Meta would reject this: ${a.validation.errors.slice(0, 3).map((e) => e.message).join("; ")}.`);
    }
    const next = a.missing[0];
    if (next && !turn.asks_for.some((f) => a.missing.includes(f))) parts.push(questionFor(next, draft, memory));
  } else if (a.state === "review") {
    parts.push(`Here is your template:\n${preview(a.payload)}`);
    if (a.validation.warnings.length > 0) parts.push(`Worth knowing: ${a.validation.warnings.slice(0, 3).map((w) => w.message).join("; ")}.`);
    parts.push('Reply "confirm" to make it final, or tell me what to change.');
  } else {
    parts.push("Your template is final: the creation payload for Meta is in `payload`. Send it for review with POST session/{id}/submit.");
  }
  return parts.join("\n\n");
}

/**
 * One turn with the model. A refusal becomes a reply (nothing in the draft changes); any other
 * failure (timeout, server error, invalid JSON, schema mismatch, open breaker) is 503
 * LLM_UNAVAILABLE and nothing is saved, so the user can send the message again.
 */
export async function llmConversationTurn(
  model: TemplateModel,
  session: SessionSnapshot & { history: { role: string; content: string }[] },
  message: string,
  ctx: ModelTurnContext,
): Promise<TurnResult & { llmError: string | null }> {
  const errors = Array.isArray(session.memory.validator_errors) ? session.memory.validator_errors as string[] : [];
  let turn: ModelTurn;
  try {
    turn = await model.turn(buildMessages(session, message, errors), ctx);
  } catch (error) {
    const code = typeof (error as { code?: unknown })?.code === "string" ? (error as { code: string }).code : "unknown";
    if (code === "refused") {
      const result = concludeTurn(session, session.draft, session.memory, false, "llm_refused", [],
        () => "I can't help with that request. Describe a message your business sends its customers, and I will draft the template.");
      return { ...result, llmError: code };
    }
    throw new AppError("LLM_UNAVAILABLE", 503, "The assistant is unavailable right now: send your message again in a moment", { "retry-after": "5" }, { llm_error: code });
  }
  const draft = normaliseDraft(turn.draft);
  const memory: Memory = { ...session.memory };
  if (draft.business_type) memory.business_type = draft.business_type;
  if (draft.category) memory.category = draft.category;
  if (draft.language) memory.language = draft.language;
  memory.wants_header = draft.wants_header;
  memory.wants_footer = draft.wants_footer;
  memory.wants_buttons = draft.wants_buttons;
  if (!memory.description && session.state === "gathering" && session.draft.body === null) memory.description = message.slice(0, 1000);
  // Confirmation counts only for a draft the user has seen in review.
  const confirmed = turn.user_confirmed && (session.state === "review" || session.state === "final") &&
    JSON.stringify(draft) === JSON.stringify(session.draft);
  const result = concludeTurn(session, draft, memory, confirmed, confirmed ? "confirmed" : "llm_extracted", [],
    (a) => llmReply(a, turn, draft, { ...memory, pending: a.missing.slice(0, 1) }));
  // Tell the model next time why Meta would reject the draft.
  result.memory.validator_errors = result.validation.errors.length ? result.validation.errors.slice(0, 10).map((e) => `${e.rule} at ${e.path}: ${e.message}`) : null;
  return { ...result, llmError: null };
}
