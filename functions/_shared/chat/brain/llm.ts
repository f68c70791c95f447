// The LLM brain: the organisation's own facts in the system prompt, the conversation's history
// (bounded by an estimate of tokens), and three tools for the actions: request_human,
// schedule_callback (`when` as the customer said it, `phone`, `issue_summary`) and
// close_conversation. It decides; turn.ts runs the action through the same services and callback
// flow as the buttons and the rules, so a time the model passes on is still read in the customer's
// timezone and checked, and a callback still cannot be created twice.
//
// Any failure (timeout, 429, 5xx, an open breaker, a reply with neither text nor a usable tool call)
// is thrown as an error with a `code`; turn.ts then lets the rule-based brain answer the same turn.
// Every call is recorded in llm_calls (purpose 'chat') after the answer, by the LLM client.
import type { Env } from "../../config/env.ts";
import type { Sql } from "../../db/client.ts";
import { createLlmCallRecorder, createLlmClient, type LlmClient, LlmError, type LlmMessage, llmSettingsFromEnv, type LlmTool } from "../../llm/index.ts";
import type { Logger } from "../../log/logger.ts";
import { describeWeek } from "../../time/business-hours.ts";
import { customerTimeZone, describeWhen } from "../callback/flow.ts";
import type { KnowledgeResult, LlmBrain, LlmDecision } from "../turn.ts";
import type { HistoryMessage, TurnContext } from "../types.ts";

export const CHAT_TOOLS: LlmTool[] = [
  {
    type: "function",
    function: {
      name: "request_human",
      description: "Hand the conversation to a human member of staff. Use when the customer asks for a person, is upset, or needs something you cannot do.",
      parameters: {
        type: "object",
        properties: {
          reason: { type: "string", description: "Why a person is needed, in a few words." },
          summary: { type: "string", description: "One or two sentences for the staff member: who the customer is and what they need." },
        },
        required: ["reason", "summary"],
        additionalProperties: false,
      },
    },
  },
  {
    type: "function",
    function: {
      name: "schedule_callback",
      description: "Book a phone callback. Call it as soon as the customer asks to be called back, with whatever they have said so far; the system asks them for anything missing.",
      parameters: {
        type: "object",
        properties: {
          when: { type: ["string", "null"], description: "The time exactly as the customer said it (e.g. 'tomorrow at 2pm'), or null if not said yet. Do not convert it." },
          phone: { type: ["string", "null"], description: "The phone number exactly as the customer gave it, or null." },
          issue_summary: { type: "string", description: "The customer's actual issue in a few words (e.g. 'furnace making a banging noise')." },
        },
        required: ["when", "phone", "issue_summary"],
        additionalProperties: false,
      },
    },
  },
  {
    type: "function",
    function: {
      name: "close_conversation",
      description: "Close the conversation when the customer says their issue is resolved or they are done.",
      parameters: {
        type: "object",
        properties: { reason: { type: "string", description: "What the customer said, briefly." } },
        required: ["reason"],
        additionalProperties: false,
      },
    },
  },
];

const CHARS_PER_TOKEN = 4;

function estimateTokens(text: string): number {
  return Math.ceil(text.length / CHARS_PER_TOKEN) + 4;
}

/** The newest messages that fit in `maxTokens`, oldest first, as chat messages. */
export function historyMessages(history: HistoryMessage[], maxTokens: number): LlmMessage[] {
  const out: LlmMessage[] = [];
  let budget = maxTokens;
  for (let i = history.length - 1; i >= 0; i--) {
    const m = history[i];
    if (m.sender_type === "system" || !m.body) continue;
    const cost = estimateTokens(m.body);
    if (cost > budget && out.length > 0) break;
    budget -= cost;
    const body = m.body.length > 4000 ? `${m.body.slice(0, 4000)}…` : m.body;
    if (m.sender_type === "customer") out.push({ role: "user", content: body });
    else out.push({ role: "assistant", content: m.sender_type === "agent" ? `(staff member) ${body}` : body });
  }
  return out.reverse();
}

function factsText(facts: Record<string, unknown>): string {
  return Object.entries(facts)
    .filter(([, v]) => v !== null && v !== undefined && String(v).trim() !== "")
    .map(([k, v]) => `- ${k.replace(/_/g, " ")}: ${String(v).slice(0, 500)}`)
    .join("\n");
}

export function systemPrompt(ctx: TurnContext, knowledge: KnowledgeResult | null | undefined, now: Date): string {
  const p = ctx.profile;
  const zone = customerTimeZone(ctx);
  const name = ctx.client?.name ?? ctx.session?.customer_name ?? (ctx.conversation.metadata?.customer_name as string | undefined) ?? null;
  const sources = knowledge?.confident
    ? knowledge.hits.slice(0, 3).map((h, i) => `[${i + 1}] ${h.title}${h.heading ? ` — ${h.heading}` : ""}\n${h.content.slice(0, 1500)}`).join("\n\n")
    : "";
  return [
    `You are ${p.agent_name}, the virtual assistant of ${p.company_name}, chatting with a customer on ${ctx.conversation.channel === "whatsapp" ? "WhatsApp" : "the website chat"}.`,
    `Now: ${describeWhen(now, zone, p.locale)} (customer's timezone ${zone}).`,
    name ? `The customer's name: ${name}.` : "The customer's name is not known.",
    `Business hours (${p.timezone}): ${describeWeek(p.business_hours, p.locale)}.`,
    "What the business has told you (use only these facts about the business, never invent prices, times or policies):",
    factsText(p.facts) || "- (nothing)",
    sources
      ? `Passages from the business's own documents. Answer questions from them only and cite them as [1], [2]:\n${sources}`
      : "If the customer asks something these facts do not answer, say plainly that you don't know and offer to connect them with a person or book a callback.",
    "Use the tools for actions: request_human when they want a person; schedule_callback as soon as they ask for a call back (pass the time and number exactly as they said them); close_conversation when they say the issue is resolved.",
    "Keep replies short and friendly (1-3 sentences). Never claim an action happened unless you used its tool.",
    p.settings.system_prompt ? `\nInstructions from the business:\n${p.settings.system_prompt}` : "",
  ].filter(Boolean).join("\n");
}

export interface LlmBrainOptions {
  client: LlmClient;
  logger: Logger;
  /** Stream the completion (tokens and tool-call deltas as they come). Default true. */
  stream?: boolean;
  now?: () => Date;
}

export function createLlmBrain(options: LlmBrainOptions): LlmBrain {
  const now = options.now ?? (() => new Date());
  return {
    async decide(ctx, { signal, knowledge }): Promise<LlmDecision> {
      const messages: LlmMessage[] = [
        { role: "system", content: systemPrompt(ctx, knowledge, now()) },
        ...historyMessages(ctx.history, ctx.profile.settings.max_history_tokens),
      ];
      const completion = await options.client.complete({
        messages,
        tools: CHAT_TOOLS,
        toolChoice: "auto",
        model: ctx.profile.settings.llm_model ?? undefined,
        temperature: ctx.profile.settings.temperature ?? undefined,
        stream: options.stream ?? true,
      }, {
        signal,
        record: { orgId: ctx.conversation.org_id, conversationId: ctx.conversation.id, purpose: "chat" },
      });
      const call = completion.toolCalls[0];
      if (call) {
        if (!call.arguments) throw new LlmError("bad_response", `tool ${call.name} had unreadable arguments`);
        const a = call.arguments as Record<string, unknown>;
        const str = (v: unknown) => (typeof v === "string" && v.trim() ? v.trim().slice(0, 500) : null);
        switch (call.name) {
          case "request_human":
            return { text: completion.text, action: { name: "request_human", reason: str(a.reason), summary: str(a.summary) } };
          case "schedule_callback":
            return { text: completion.text, action: { name: "schedule_callback", when: str(a.when), phone: str(a.phone), issue_summary: str(a.issue_summary) } };
          case "close_conversation":
            return { text: completion.text, action: { name: "close_conversation", reason: str(a.reason) } };
          default:
            throw new LlmError("bad_response", `unknown tool ${call.name}`);
        }
      }
      if (completion.refusal) throw new LlmError("refused", "the model refused");
      const text = completion.text?.trim() ?? "";
      const cited = knowledge?.confident
        ? knowledge.hits.slice(0, 3).filter((_, i) => text.includes(`[${i + 1}]`))
        : [];
      return {
        text,
        action: null,
        metadata: cited.length
          ? { sources: cited.map((h) => ({ document_id: h.document_id, section_id: h.section_id, title: h.title, url: h.url })) }
          : undefined,
      };
    },
  };
}

/** The LLM brain from OPENAI_* settings, or null without OPENAI_API_KEY (the rules answer). */
export function createLlmBrainFromEnv(env: Env, deps: { sql: Sql; logger: Logger }): LlmBrain | null {
  const settings = llmSettingsFromEnv(env);
  if (!settings) return null;
  const client = createLlmClient(settings, { recorder: createLlmCallRecorder(deps.sql, deps.logger), logger: deps.logger });
  return createLlmBrain({ client, logger: deps.logger });
}
