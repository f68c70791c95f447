// The pipeline's SQL, one function per step (20261130000200_chat_pipeline.sql); each is one round
// trip. Nothing here decides anything.
import type { Sql } from "../db/client.ts";
import type { TurnContext } from "./types.ts";

export interface StoredReply {
  message_id: number;
  outbox_id: number | null;
  body: string;
  metadata: Record<string, unknown>;
  created_at: string;
}

export interface OutboxTarget {
  channel: string;
  recipient: string | null;
  payload: Record<string, unknown>;
}

export interface SessionStart {
  session_id: string;
  conversation_id: string;
  org_id: string;
  site_id: string;
}

export interface TokenOwner {
  session_id: string;
  conversation_id: string;
  org_id: string;
  site_id: string;
  site_enabled: boolean;
  timezone: string | null;
  /** The site's own requests-per-minute limit, when it has one. */
  site_rate_limit: number | null;
}

export function createChatStore(sql: Sql) {
  return {
    async startSession(siteKey: string, tokenHash: Uint8Array, customer: Record<string, unknown>, timezone: string | null) {
      const [{ result }] = await sql`
        select public.chat_start_session(${siteKey}, ${tokenHash}, ${sql.json(customer as never)}, ${timezone}) as result`;
      return result as SessionStart | { error: "site_not_found" };
    },

    async sessionForToken(tokenHash: Uint8Array): Promise<TokenOwner | null> {
      const [{ result }] = await sql`select public.chat_session_for_token(${tokenHash}) as result`;
      return result ?? null;
    },

    async addCustomerMessage(conversationId: string, body: string, providerMessageId: string | null, metadata: Record<string, unknown>) {
      const [{ result }] = await sql`
        select public.chat_add_customer_message(${conversationId}::uuid, ${body}, ${providerMessageId},
          ${sql.json(metadata as never)}) as result`;
      return result as { message_id: number; duplicate: boolean; conversation_id: string } | { error: string };
    },

    async claimNext(conversationId: string, leaseSeconds: number, historyLimit = 40): Promise<TurnContext | null> {
      const [{ result }] = await sql`
        select public.chat_claim_next(${conversationId}::uuid, ${leaseSeconds}, ${historyLimit}) as result`;
      return result ?? null;
    },

    async completeJob(
      messageId: number,
      leaseToken: string,
      replies: Array<{ body: string; metadata: Record<string, unknown> }>,
      memory: Record<string, unknown> | null,
      outbox: OutboxTarget | null,
    ): Promise<{ replies: StoredReply[] } | { error: "lease_lost" }> {
      const [{ result }] = await sql`
        select public.chat_complete_job(${messageId}::bigint, ${leaseToken}::uuid, ${sql.json(replies as never)},
          ${memory === null ? null : sql.json(memory as never)}, ${outbox === null ? null : sql.json(outbox as never)}) as result`;
      return result;
    },

    async releaseJob(messageId: number, leaseToken: string, error: string): Promise<void> {
      await sql`select public.chat_release_job(${messageId}::bigint, ${leaseToken}::uuid, ${error})`;
    },

    async dueConversations(limit: number): Promise<string[]> {
      const rows = await sql`select c as id from public.chat_due_conversations(now(), interval '10 seconds', ${limit}) c`;
      return rows.map((r) => r.id as string);
    },

    /** The conversation as the customer sees it: messages in order, status, and the actions taken. */
    async history(conversationId: string) {
      const [{ result }] = await sql`select public.chat_history(${conversationId}::uuid) as result`;
      return result;
    },

    async debug(conversationId: string) {
      const [{ result }] = await sql`select public.chat_debug(${conversationId}::uuid) as result`;
      return result;
    },
  };
}

export type ChatStore = ReturnType<typeof createChatStore>;

/** Bot messages written outside a turn (the greeting of a new web session). */
export async function addBotMessage(sql: Sql, conversationId: string, orgId: string, body: string, metadata: Record<string, unknown>) {
  const [row] = await sql`
    insert into public.messages (conversation_id, org_id, sender_type, body, metadata)
    values (${conversationId}::uuid, ${orgId}::uuid, 'bot', ${body}, ${sql.json(metadata as never)})
    returning id, body, metadata, created_at`;
  return row as { id: number; body: string; metadata: Record<string, unknown>; created_at: Date };
}

/** The bot's replies to one customer message (for a retried request that was already answered). */
export async function repliesTo(sql: Sql, conversationId: string, messageId: number) {
  return await sql<{ id: number; body: string; metadata: Record<string, unknown>; created_at: Date }[]>`
    select m.id, m.body, m.metadata, m.created_at from public.messages m
    where m.conversation_id = ${conversationId}::uuid and m.sender_type = 'bot'
      and m.metadata ->> 'reply_to' = ${String(messageId)}
    order by m.created_at, m.id`;
}

export async function conversationState(sql: Sql, conversationId: string) {
  const [row] = await sql`
    select c.id, c.status, c.priority, c.resolution_reason from public.conversations c where c.id = ${conversationId}::uuid`;
  return row as { id: string; status: string; priority: number; resolution_reason: string | null } | undefined;
}
