// The chat runtime both chat channels build from their settings: the database client, the store,
// the actions, the brains, the outbox with one sender per channel, and the pipeline. This is the one
// place where channels are listed (their outbox targets and senders), the way a router lists routes:
// a new channel adds its adapter function, its sender here, and nothing else.
import type { Sql } from "../db/client.ts";
import { createSql } from "../db/client.ts";
import type { Env } from "../config/env.ts";
import type { Logger } from "../log/logger.ts";
import { createOutboxDispatcher, type OutboxDispatcher, type Sender } from "../outbox/dispatcher.ts";
import { intakeWhatsApp } from "../whatsapp/inbox.ts";
import { createWhatsAppSender } from "../whatsapp/sender.ts";
import { parseZohoConfig, type ZohoConfig } from "../zoho/config.ts";
import { createZohoClient, type ZohoClient } from "../zoho/oauth.ts";
import { createDeskSender, createSalesIqSender } from "../zoho/senders.ts";
import { createKnowledgeBaseFromEnv } from "../knowledge/index.ts";
import { createActions } from "./actions/actions.ts";
import { createLlmBrainFromEnv } from "./brain/llm.ts";
import type { ChatConfig } from "./config.ts";
import { createPipeline, type Pipeline } from "./pipeline.ts";
import { createChatStore, type ChatStore, type OutboxTarget } from "./store.ts";
import { createTurn, type KnowledgeBase, type LlmBrain } from "./turn.ts";
import type { TurnContext } from "./types.ts";

export interface ChatRuntime {
  sql: Sql;
  store: ChatStore;
  pipeline: Pipeline;
  outbox: OutboxDispatcher;
  llmEnabled: boolean;
  zoho: ZohoClient;
  zohoConfig: ZohoConfig;
}

export interface ChatRuntimeDeps {
  sql?: Sql;
  /** Replaces the LLM brain built from OPENAI_* (tests); null turns it off. */
  llm?: LlmBrain | null;
  /** Replaces the knowledge base built from the environment (tests); null turns it off. */
  knowledge?: KnowledgeBase | null;
  now?: () => Date;
}

/**
 * How long a SalesIQ reply waits before a sender may deliver it: the webhook answers with it itself
 * when the bot is quick enough (SALESIQ_REPLY_BUDGET_MS, at most 9 s), else releases it at once.
 */
export const SALESIQ_HOLD_SECONDS = 12;

/** Where a conversation's replies go: channels that read the history themselves (web) need nothing. */
export function outboxTargetFor(ctx: TurnContext): OutboxTarget | null {
  if (ctx.conversation.channel === "salesiq") {
    const rid = ctx.message.metadata?.salesiq_request_id;
    return {
      channel: "salesiq",
      recipient: ctx.conversation.external_id,
      payload: { request_id: typeof rid === "string" ? rid : null, hold_seconds: SALESIQ_HOLD_SECONDS },
    };
  }
  if (ctx.conversation.channel === "whatsapp") {
    const meta = ctx.conversation.metadata ?? {};
    return {
      channel: "whatsapp",
      recipient: typeof meta.wa_id === "string" ? meta.wa_id : ctx.conversation.customer_phone,
      payload: { phone_number_id: meta.phone_number_id },
    };
  }
  return null;
}

export function buildChatRuntime(config: ChatConfig, env: Env, logger: Logger, deps: ChatRuntimeDeps = {}): ChatRuntime {
  const sql = deps.sql ?? createSql(config.DATABASE_URL, { max: config.DB_MAX_CONNECTIONS });
  const store = createChatStore(sql);
  const zohoConfig = parseZohoConfig(env);
  const zoho = createZohoClient({ sql, config: zohoConfig, logger });
  const senders: Record<string, Sender> = {
    whatsapp: createWhatsAppSender({ graphUrl: config.WHATSAPP_GRAPH_URL, accessToken: config.WHATSAPP_ACCESS_TOKEN, logger }),
    salesiq: createSalesIqSender({ sql, zoho, logger }),
    zoho_desk: createDeskSender({ sql, zoho, config: zohoConfig, logger }),
  };
  const outbox = createOutboxDispatcher({ sql, senders, logger });
  const llm = deps.llm !== undefined ? deps.llm : createLlmBrainFromEnv(env, { sql, logger });
  const knowledge = deps.knowledge !== undefined ? deps.knowledge : createKnowledgeBaseFromEnv(env, { sql, logger });
  const decideTurn = createTurn({ actions: createActions(sql), llm, knowledge, logger, now: deps.now });
  const pipeline = createPipeline({
    store,
    decideTurn,
    outbox,
    outboxTarget: outboxTargetFor,
    logger,
    turnDeadlineMs: config.CHAT_TURN_DEADLINE_MS,
    intakes: [() => intakeWhatsApp(sql, null)],
    maxConcurrentTurns: config.CHAT_MAX_CONCURRENT_TURNS,
    // Long enough for the slowest turn, short enough that the sweep finds a dead worker's message soon.
    leaseSeconds: Math.ceil(config.CHAT_TURN_DEADLINE_MS / 1000) + 5,
  });
  return { sql, store, pipeline, outbox, llmEnabled: llm !== null, zoho, zohoConfig };
}
