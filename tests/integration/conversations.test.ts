// Conversations and messages as the edge functions write them (postgres.js, service connection):
// the triggers of supabase/migrations/20261123000300_conversations.sql and the audit trail must hold
// for a TypeScript writer exactly as the pgTAP suites prove them for SQL.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../support/database.ts";

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db.drop();
});

async function newOrg(name = "Acme Heating"): Promise<string> {
  const [org] = await db.sql`insert into public.orgs (name, default_country) values (${name}, 'CA') returning id`;
  return org.id as string;
}

async function newConversation(orgId: string, channel = "whatsapp", externalId: string = crypto.randomUUID()): Promise<string> {
  const [row] = await db.sql`
    insert into public.conversations (org_id, channel, external_id) values (${orgId}, ${channel}, ${externalId})
    returning id`;
  return row.id as string;
}

describe("conversations and messages", () => {
  it("starts a conversation with the bot and stamps its activity", async () => {
    const orgId = await newOrg();
    const [row] = await db.sql`
      insert into public.conversations (org_id, channel, external_id) values (${orgId}, 'web', 'widget-1')
      returning status, last_activity_at, resolved_at, customer_message_count`;
    expect(row).toMatchObject({ status: "bot", resolved_at: null, customer_message_count: 0 });
    expect(row.last_activity_at).toBeInstanceOf(Date);
  });

  it("keeps activity, counters and the first response time when messages arrive", async () => {
    const orgId = await newOrg();
    const t0 = new Date("2026-04-01T10:00:00Z");
    const [{ id }] = await db.sql`
      insert into public.conversations (org_id, channel, external_id, created_at, last_activity_at)
      values (${orgId}, 'whatsapp', 'wa-1', ${t0}, ${t0}) returning id`;
    const messages = [
      { sender_type: "customer", body: "no heat", created_at: t0 },
      { sender_type: "bot", body: "sorry to hear that", created_at: new Date(t0.getTime() + 4_000) },
      { sender_type: "agent", body: "technician booked", created_at: new Date(t0.getTime() + 60_000) },
    ].map((m) => ({ ...m, conversation_id: id, org_id: orgId }));
    await db.sql`insert into public.messages ${db.sql(messages)}`;

    const [row] = await db.sql`
      select last_activity_at, last_customer_message_at, customer_message_count, bot_message_count,
             agent_message_count, first_response_seconds
      from public.conversations where id = ${id}`;
    expect(row).toEqual({
      last_activity_at: new Date(t0.getTime() + 60_000),
      last_customer_message_at: t0,
      customer_message_count: 1,
      bot_message_count: 1,
      agent_message_count: 1,
      first_response_seconds: 4,
    });
  });

  it("stores a redelivered provider message once", async () => {
    const orgId = await newOrg();
    const id = await newConversation(orgId);
    const insert = () => db.sql`
      insert into public.messages (conversation_id, org_id, sender_type, body, provider_message_id)
      values (${id}, ${orgId}, 'customer', 'hello', 'wamid.HBgL')
      on conflict (org_id, provider_message_id) do nothing
      returning id`;
    const first = await insert();
    const replay = await insert();
    const [row] = await db.sql`select customer_message_count from public.conversations where id = ${id}`;
    expect([first.length, replay.length, row.customer_message_count]).toEqual([1, 0, 1]);
  });

  it("refuses a status change the lifecycle does not allow, with SQLSTATE SB001", async () => {
    const orgId = await newOrg();
    const id = await newConversation(orgId);
    // resolved -> agent must go through the queue (agent -> bot is allowed since live sessions:
    // the customer's "end chat").
    await db.sql`update public.conversations set status = 'resolved' where id = ${id}`;
    const error = await db.sql`update public.conversations set status = 'agent' where id = ${id}`.catch((e) => e);
    expect(error).toMatchObject({ code: "SB001", message: "INVALID_STATUS_TRANSITION" });
    const [row] = await db.sql`select status from public.conversations where id = ${id}`;
    expect(row.status).toBe("resolved");
  });

  it("reopens a resolved chat with the bot when the customer writes again", async () => {
    const orgId = await newOrg();
    const id = await newConversation(orgId);
    await db.sql`update public.conversations set status = 'resolved', resolved_at = now() - interval '1 hour' where id = ${id}`;
    await db.sql`
      insert into public.messages (conversation_id, org_id, sender_type, body) values (${id}, ${orgId}, 'customer', 'me again')`;
    const [row] = await db.sql`select status, resolved_at, resolution_reason from public.conversations where id = ${id}`;
    expect(row).toEqual({ status: "bot", resolved_at: null, resolution_reason: null });
  });

  it("turns a Telnyx call.conversation.ended record into a resolved phone conversation, once", async () => {
    const orgId = await newOrg();
    const insertCall = () => db.sql`
      insert into public.call_records (org_id, provider, event_id, call_session_id, provider_conversation_id,
        caller, called, duration_sec, end_reason, occurred_at, payload)
      values (${orgId}, 'telnyx', 'evt-42', 'session-42', 'tconv-42', '+14165550199', '+14165550100', 61,
        'assistant_hangup', '2026-04-01T12:00:00Z', ${db.sql.json({ event_type: "call.conversation.ended" })})
      on conflict (provider, event_id) do nothing
      returning conversation_id`;
    await insertCall();
    await insertCall();
    const rows = await db.sql`
      select c.id, c.channel, c.external_id, c.status, c.resolution_reason, c.customer_phone, c.resolution_seconds,
             r.conversation_id
      from public.conversations c join public.call_records r on r.conversation_id = c.id
      where c.org_id = ${orgId}`;
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      channel: "phone",
      external_id: "tconv-42",
      status: "resolved",
      resolution_reason: "call_ended",
      customer_phone: "+14165550199",
      resolution_seconds: 61,
    });
  });

  it("names the function set in app.actor in the audit trail", async () => {
    const orgId = await newOrg();
    const id = await db.sql.begin(async (tx) => {
      await tx`select set_config('app.actor', 'whatsapp-webhook', true)`;
      const [row] = await tx`
        insert into public.conversations (org_id, channel, external_id) values (${orgId}, 'whatsapp', 'wa-77') returning id`;
      return row.id as string;
    });
    const [log] = await db.sql`
      select operation, actor, user_id, org_id from public.audit_logs
      where table_name = 'conversations' and record_id = ${id}`;
    expect(log).toEqual({ operation: "INSERT", actor: "whatsapp-webhook", user_id: null, org_id: orgId });
  });

  it("closes a chat as abandoned when maintenance runs 25 hours later", async () => {
    const orgId = await newOrg();
    const id = await newConversation(orgId, "web");
    const [{ summary }] = await db.sql`select public.run_maintenance_tasks(now() + interval '25 hours') as summary`;
    const [row] = await db.sql`select status, resolution_reason from public.conversations where id = ${id}`;
    expect(row).toEqual({ status: "resolved", resolution_reason: "abandoned" });
    expect(summary.abandoned_conversations.rows).toBeGreaterThanOrEqual(1);
  });

  it("shows a dashboard member only their organisation's conversations", async () => {
    const mine = await newOrg("Mine");
    const theirs = await newOrg("Theirs");
    const [user] = await db.sql`insert into auth.users (email) values ('ana@example.com') returning id`;
    await db.sql`insert into public.org_members (org_id, user_id) values (${mine}, ${user.id})`;
    await newConversation(mine, "web", "mine-1");
    await newConversation(theirs, "web", "theirs-1");
    const visible = await db.sql.begin(async (tx) => {
      await tx`set local role authenticated`;
      await tx`select set_config('request.jwt.claims', ${JSON.stringify({ sub: user.id, role: "authenticated" })}, true)`;
      return tx`select external_id from public.conversations`;
    });
    expect(visible.map((r) => r.external_id)).toEqual(["mine-1"]);
  });
});
