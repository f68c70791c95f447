// One turn of the bot: given the claimed job's context, decide what to say and what to do. In order:
//   1. a conversation a person owns (queued or with an agent) gets no bot answer;
//   2. a button runs its action (AGENT_MODE, SCHEDULE_CALLBACK, ...);
//   3. a callback being collected takes the message (unless the customer clearly asks for something
//      else: a person, to end, "it's fixed");
//   4. the LLM brain, when configured and healthy; on any failure the rule-based brain, same turn;
//   5. the rule-based brain.
// Whatever decided, actions run through the same services (actions/actions.ts) and the same
// callback flow, and the bot's working memory is dropped after any action.
import type { Logger } from "../log/logger.ts";
import type { Actions } from "./actions/actions.ts";
import { languagePack, type LanguagePack } from "./brain/language.ts";
import { detectIntent, isSmallTalk } from "./brain/rules.ts";
import { AGENT_MODE, CALLBACK_USE_THIS_NUMBER, CANCEL_CALLBACK, SCHEDULE_CALLBACK } from "./buttons.ts";
import { callbackDescription, callbackSubject } from "./callback/describe.ts";
import { type CallbackState, callbackStep, describeWhen, type FlowStep, startCallback } from "./callback/flow.ts";
import type { ActionOutcome, ActionSource, BotMemory, Reply, TurnContext, TurnResult } from "./types.ts";

/** What an LLM brain decided for a turn: a reply, or one action (a tool call) with its arguments. */
export interface LlmDecision {
  text: string | null;
  action:
    | { name: "request_human"; reason?: string | null; summary?: string | null }
    | { name: "schedule_callback"; when?: string | null; phone?: string | null; issue_summary?: string | null }
    | { name: "close_conversation"; reason?: string | null }
    | null;
  /** Anything the reply should carry (sources, ...). */
  metadata?: Record<string, unknown>;
}

export interface LlmBrain {
  /** `knowledge`: what retrieval found for this message (the LLM answers only from it, and cites it). */
  decide(ctx: TurnContext, options: { signal?: AbortSignal; knowledge?: KnowledgeResult | null }): Promise<LlmDecision>;
}

/** A passage of the organisation's own documents the bot may answer from (issue: knowledge base). */
export interface KnowledgeHit {
  document_id: string;
  section_id: string;
  title: string;
  heading: string | null;
  url: string | null;
  content: string;
  /** Comparable across calls: the gate in `confident` is applied to it. */
  score: number;
}

export interface KnowledgeResult {
  hits: KnowledgeHit[];
  /** True when the best hit clears the organisation's threshold: the bot may answer from it. */
  confident: boolean;
}

/** Retrieval over the organisation's documents; absent until a knowledge base is configured. */
export interface KnowledgeBase {
  retrieve(orgId: string, query: string, options: { language: string; signal?: AbortSignal }): Promise<KnowledgeResult>;
}

export interface TurnDeps {
  actions: Actions;
  llm?: LlmBrain | null;
  knowledge?: KnowledgeBase | null;
  logger: Logger;
  now?: () => Date;
}

function standardButtons(pack: LanguagePack) {
  return [
    { id: AGENT_MODE, title: pack.lines.buttons.agent },
    { id: SCHEDULE_CALLBACK, title: pack.lines.buttons.callback },
  ];
}

function customerName(ctx: TurnContext): string | null {
  const meta = ctx.conversation.metadata ?? {};
  return ctx.client?.name ?? ctx.session?.customer_name ?? (typeof meta.customer_name === "string" ? meta.customer_name : null);
}

/** A few words for the person who takes over: the customer's last messages that say something. */
export function handoffSummary(ctx: TurnContext, pack: LanguagePack, given?: string | null): string | null {
  if (given && given.trim().length >= 3) return given.trim().slice(0, 280);
  const said = ctx.history
    .filter((m) => m.sender_type === "customer" && !isSmallTalk(m.body, pack))
    .slice(-3)
    .map((m) => m.body.replace(/\s+/g, " ").trim());
  return said.length ? said.join(" / ").slice(0, 280) : null;
}

export function createTurn(deps: TurnDeps) {
  const now = deps.now ?? (() => new Date());

  async function handoff(ctx: TurnContext, pack: LanguagePack, source: ActionSource, reason?: string | null, summary?: string | null): Promise<TurnResult> {
    const outcome = await deps.actions.requestHandoff({
      conversationId: ctx.conversation.id,
      priority: ctx.profile.settings.handoff_priority,
      summary: handoffSummary(ctx, pack, summary),
      source,
      messageId: ctx.message.id,
      reason: reason ?? null,
    });
    const body = outcome.changed ? pack.lines.handoff_done : pack.lines.handoff_already;
    return { replies: [{ body }], actions: [outcome], memory: null, decidedBy: source === "button" ? "button" : source === "llm" ? "llm" : "rules" };
  }

  async function close(ctx: TurnContext, pack: LanguagePack, source: ActionSource, reason: string | null): Promise<TurnResult> {
    const outcome = await deps.actions.closeConversation({
      conversationId: ctx.conversation.id, reason, source, messageId: ctx.message.id,
    });
    return { replies: [{ body: pack.lines.closed }], actions: [outcome], memory: null, decidedBy: source === "llm" ? "llm" : "rules" };
  }

  async function runCallbackStep(ctx: TurnContext, pack: LanguagePack, step: FlowStep, decidedBy: TurnResult["decidedBy"]): Promise<TurnResult> {
    if (step.kind === "ask") {
      return { replies: [step.reply], actions: [], memory: { ...keep(ctx.memory), callback: step.state }, decidedBy };
    }
    const name = customerName(ctx);
    const party = {
      name,
      email: ctx.client?.email ?? ctx.session?.customer_email ?? null,
      phone: step.phone,
      channel: ctx.conversation.channel,
    };
    const customerMessages = ctx.history.filter((m) => m.sender_type === "customer").map((m) => m.body);
    const subject = callbackSubject(step.issue ?? ctx.conversation.summary, customerMessages, party, (t) => isSmallTalk(t, pack));
    const description = callbackDescription({
      party,
      scheduledFor: step.scheduledFor,
      timeZone: step.timezone,
      requestedText: step.requestedText,
      history: ctx.history,
    });
    const outcome = await deps.actions.scheduleCallback({
      conversationId: ctx.conversation.id,
      scheduledFor: step.scheduledFor,
      timezone: step.timezone,
      phone: step.phone,
      subject,
      description,
      requestedText: step.requestedText,
      customerName: name,
      customerEmail: party.email,
      source: step.source,
      messageId: ctx.message.id,
    });
    const when = describeWhen(new Date(outcome.scheduled_for), outcome.timezone, ctx.profile.locale);
    const body = outcome.changed
      ? pack.lines.callback_done({ when, phone: outcome.phone })
      : pack.lines.callback_already({ when, phone: outcome.phone });
    return { replies: [{ body }], actions: [outcome], memory: null, decidedBy };
  }

  /** Memory without the flow state (kept for other keys a later feature may add). */
  function keep(memory: BotMemory): BotMemory {
    const { callback: _drop, ...rest } = memory ?? {};
    return rest;
  }

  async function rules(ctx: TurnContext, pack: LanguagePack, fallbackReason?: string, signal?: AbortSignal): Promise<TurnResult> {
    const text = ctx.message.body ?? "";
    const match = detectIntent(text, pack);
    const withReason = (r: TurnResult): TurnResult => (fallbackReason ? { ...r, fallbackReason } : r);
    switch (match?.intent) {
      case "handoff":
        return withReason(await handoff(ctx, pack, "rules", match.phrase));
      case "callback":
        return withReason(await runCallbackStep(ctx, pack, callbackStep(ctx, startCallback("rules"), { text }, now()), "rules"));
      case "resolved":
      case "end_chat":
        return withReason(await close(ctx, pack, "rules", text.slice(0, 500)));
      case "greeting":
        return withReason({
          replies: [{
            body: pack.lines.greeting({ company: ctx.profile.company_name, agent: ctx.profile.agent_name, name: customerName(ctx) }),
            buttons: standardButtons(pack),
          }],
          actions: [],
          memory: keep(ctx.memory),
          decidedBy: "rules",
        });
      case "thanks":
        return withReason({ replies: [{ body: pack.lines.thanks, buttons: standardButtons(pack) }], actions: [], memory: keep(ctx.memory), decidedBy: "rules" });
      default: {
        // A question the organisation's documents answer well enough: the best passage, cited.
        const found = await retrieve(ctx, signal);
        if (found?.confident && found.hits[0]) {
          const hit = found.hits[0];
          return withReason({
            replies: [{
              body: hit.content,
              buttons: standardButtons(pack),
              metadata: { sources: [source(hit)] },
            }],
            actions: [],
            memory: keep(ctx.memory),
            decidedBy: "rules",
          });
        }
        return withReason({ replies: [{ body: pack.lines.fallback, buttons: standardButtons(pack) }], actions: [], memory: keep(ctx.memory), decidedBy: "rules" });
      }
    }
  }

  function source(hit: KnowledgeHit) {
    return { document_id: hit.document_id, section_id: hit.section_id, title: hit.title, url: hit.url };
  }

  /** Retrieval for this message; a failing knowledge base means "nothing found", never a failed turn. */
  async function retrieve(ctx: TurnContext, signal?: AbortSignal): Promise<KnowledgeResult | null> {
    if (!deps.knowledge) return null;
    const text = (ctx.message.body ?? "").trim();
    if (text.length < 3) return null;
    try {
      return await deps.knowledge.retrieve(ctx.profile.org_id, text, { language: ctx.profile.settings.language, signal });
    } catch (error) {
      deps.logger.warn("knowledge retrieval failed", { error: (error as Error)?.name, conversation_id: ctx.conversation.id });
      return null;
    }
  }

  async function llmTurn(ctx: TurnContext, pack: LanguagePack, llm: LlmBrain, signal?: AbortSignal): Promise<TurnResult> {
    const knowledge = await retrieve(ctx, signal);
    const decision = await llm.decide(ctx, { signal, knowledge });
    const action = decision.action;
    if (action?.name === "request_human") return await handoff(ctx, pack, "llm", action.reason, action.summary);
    if (action?.name === "close_conversation") return await close(ctx, pack, "llm", action.reason ?? ctx.message.body);
    if (action?.name === "schedule_callback") {
      const state = startCallback("llm", action.issue_summary ?? null);
      const step = callbackStep(ctx, state, { when: action.when ?? null, phone: action.phone ?? null }, now());
      return await runCallbackStep(ctx, pack, step, "llm");
    }
    const text = decision.text?.trim();
    if (!text) throw Object.assign(new Error("the model returned neither text nor an action"), { code: "bad_response" });
    return {
      replies: [{ body: text, metadata: decision.metadata }],
      actions: [],
      memory: keep(ctx.memory),
      decidedBy: "llm",
    };
  }

  return async function decideTurn(ctx: TurnContext, options: { signal?: AbortSignal } = {}): Promise<TurnResult> {
    const pack = languagePack(ctx.profile.settings.language);
    const text = ctx.message.body ?? "";
    const button = typeof ctx.message.metadata?.button === "string" ? ctx.message.metadata.button : null;

    // 1. A person owns the conversation: the message is theirs to answer, unless the customer
    //    leaves the live session ("end chat"): it ends and the bot takes the conversation back.
    if (ctx.conversation.status === "queued" || ctx.conversation.status === "agent") {
      if (detectIntent(text, pack)?.intent === "end_chat") {
        const ended = await deps.actions.endLiveSession({ conversationId: ctx.conversation.id, messageId: ctx.message.id });
        if (ended.changed) {
          return { replies: [{ body: pack.lines.live_session_ended, buttons: standardButtons(pack) }], actions: [], memory: null, decidedBy: "human" };
        }
      }
      return { replies: [], actions: [], memory: ctx.memory, decidedBy: "human" };
    }

    // 2. Buttons.
    if (button === AGENT_MODE) return await handoff(ctx, pack, "button", "button");
    if (button === SCHEDULE_CALLBACK) {
      const step = callbackStep(ctx, ctx.memory.callback ?? startCallback("button"), {}, now());
      return await runCallbackStep(ctx, pack, step, "button");
    }
    if (button === CANCEL_CALLBACK) {
      return { replies: [{ body: pack.lines.callback_cancelled, buttons: standardButtons(pack) }], actions: [], memory: keep(ctx.memory), decidedBy: "button" };
    }
    if (button === CALLBACK_USE_THIS_NUMBER && ctx.memory.callback) {
      const step = callbackStep(ctx, ctx.memory.callback, { useChannelPhone: true }, now());
      return await runCallbackStep(ctx, pack, step, "button");
    }

    // 3. A callback being collected.
    const flow: CallbackState | undefined = ctx.memory.callback;
    if (flow) {
      const intent = detectIntent(text, pack)?.intent;
      if (intent === "cancel") {
        return { replies: [{ body: pack.lines.callback_cancelled, buttons: standardButtons(pack) }], actions: [], memory: keep(ctx.memory), decidedBy: "flow" };
      }
      if (intent !== "handoff" && intent !== "end_chat" && intent !== "resolved") {
        return await runCallbackStep(ctx, pack, callbackStep(ctx, flow, { text }, now()), "flow");
      }
    }

    // 4. The LLM, with the rules as the safety net.
    if (deps.llm) {
      try {
        return await llmTurn(ctx, pack, deps.llm, options.signal);
      } catch (error) {
        const code = (error as { code?: unknown })?.code;
        const reason = typeof code === "string" ? code : "error";
        deps.logger.warn("llm failed: the rule-based brain answers", { reason, conversation_id: ctx.conversation.id });
        return await rules(ctx, pack, reason, options.signal);
      }
    }
    // 5. The rules.
    return await rules(ctx, pack, undefined, options.signal);
  };
}

export type DecideTurn = ReturnType<typeof createTurn>;
export type { Reply, ActionOutcome };
