// The shapes every part of the conversation pipeline shares: what a claimed job holds (the turn's
// context, read in one round trip by chat_claim_next()), what a brain decides, and what actions
// report. Channels, brains and actions know these types and not each other.

export type Channel = "web" | "whatsapp" | string;
export type ConversationStatus = "bot" | "queued" | "agent" | "resolved";
export type ActionSource = "button" | "llm" | "rules" | "agent" | "api" | "system";

export interface Button {
  id: string;
  title: string;
}

export interface HistoryMessage {
  id: number;
  sender_type: "customer" | "bot" | "agent" | "system";
  body: string;
  created_at: string;
  metadata: Record<string, unknown>;
}

export interface OrgProfile {
  org_id: string;
  org_name: string;
  timezone: string;
  default_country: string;
  locale: string;
  currency: string;
  company_name: string;
  agent_name: string;
  business_hours: Record<string, unknown>;
  facts: Record<string, unknown>;
  settings: {
    system_prompt: string | null;
    llm_model: string | null;
    temperature: number | null;
    max_history_tokens: number;
    callbacks_within_business_hours: boolean;
    language: string;
    handoff_priority: number;
  };
}

/** The bot's working memory for one conversation (bot_memory.state). */
export interface BotMemory {
  /** A callback being collected over several messages. */
  callback?: {
    when_text?: string;
    scheduled_for?: string;
    phone?: string;
    issue?: string;
    source: ActionSource;
    asked: number;
  };
  [key: string]: unknown;
}

export interface TurnContext {
  job: { message_id: number; lease_token: string; attempts: number };
  message: { id: number; body: string; metadata: Record<string, unknown>; created_at: string; provider_message_id: string | null };
  conversation: {
    id: string;
    org_id: string;
    channel: Channel;
    external_id: string | null;
    status: ConversationStatus;
    customer_phone: string | null;
    client_id: string | null;
    priority: number;
    summary: string | null;
    metadata: Record<string, unknown>;
    last_customer_message_at: string | null;
    created_at: string;
  };
  profile: OrgProfile;
  memory: BotMemory;
  history: HistoryMessage[];
  session: { id: string; timezone: string | null; customer_name: string | null; customer_email: string | null } | null;
  client: { id: string; name: string; email: string | null } | null;
  callback: Record<string, unknown> | null;
}

/** What an action reports back; the web chat API returns these in `actions`. */
export type ActionOutcome =
  | { type: "handoff_requested"; changed: boolean; status: string; priority: number; summary: string | null }
  | {
    type: "callback_scheduled";
    changed: boolean;
    id: string;
    scheduled_for: string;
    timezone: string;
    phone: string;
    subject: string;
  }
  | { type: "conversation_closed"; changed: boolean; reason: string | null };

export interface Reply {
  body: string;
  buttons?: Button[];
  /** Extra metadata stored with the message (sources, brain, ...). */
  metadata?: Record<string, unknown>;
}

/** The outcome of one turn: replies to send, actions done, and the memory to keep (null drops it). */
export interface TurnResult {
  replies: Reply[];
  actions: ActionOutcome[];
  memory: BotMemory | null;
  /** Which part decided, for logs and the debug view. */
  decidedBy: "button" | "flow" | "llm" | "rules" | "human" | "none";
  /** Why the LLM was not used, when it was configured but the rules answered. */
  fallbackReason?: string;
}
