// Human agents end to end, under real Deno (scripts/serve.ts, as `npm start` runs it), over HTTP, on a
// real Postgres: a customer asks for a person, an agent signed in with a Supabase-style token (HS256,
// the test's SUPABASE_JWT_SECRET) sees the session waiting, accepts, replies, follows the customer on
// the live feed (SSE), and the customer leaves with "end chat". Web chat (the reply is read from the
// session history) and WhatsApp (the reply reaches a local Graph API server through the outbox).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signAgentToken } from "../../scripts/agent-token.mjs";
import { type GraphApi, startGraphApi } from "../../scripts/stand-ins/graph-api.mjs";
import {
  APP_SECRET,
  type ChatOrg,
  createChatOrg,
  postWhatsApp,
  SERVICE_KEY,
  textMessage,
  VERIFY_TOKEN,
  WA_TOKEN,
  webChat,
  whatsappEvent,
} from "../support/chat.ts";
import { createTestDatabase, type TestDatabase } from "../support/database.ts";
import { type FunctionsServer, startFunctionsServer } from "./support/server.ts";

const JWT_SECRET = "e2e-agents-jwt-secret-e2e-agents-jwt-secret-0123";

let db: TestDatabase;
let server: FunctionsServer;
let graph: GraphApi;
let org: ChatOrg;
let chat: ReturnType<typeof webChat>;
let agentToken: string;
let agentId: string;

beforeAll(async () => {
  db = await createTestDatabase();
  graph = await startGraphApi({ tokens: [WA_TOKEN] });
  org = await createChatOrg(db.sql);
  // Manual assignment, so that the session waits in the queue until the agent accepts it.
  await db.sql`insert into public.agent_settings (org_id, assignment_mode) values (${org.orgId}, 'manual')`;
  const user = crypto.randomUUID();
  await db.sql`insert into auth.users (id, email) values (${user}, 'casey@e2e.example')`;
  [{ id: agentId }] = await db.sql`
    insert into public.support_agents (org_id, user_id, display_name, email, status, max_concurrent)
    values (${org.orgId}, ${user}, 'Casey', 'casey@e2e.example', 'online', 5) returning id`;
  agentToken = await signAgentToken(JWT_SECRET, { sub: user, email: "casey@e2e.example", ttlSeconds: 600 });
  server = await startFunctionsServer({
    env: {
      DATABASE_URL: db.url,
      SUPABASE_SERVICE_ROLE_KEY: SERVICE_KEY,
      SUPABASE_JWT_SECRET: JWT_SECRET,
      WHATSAPP_APP_SECRET: APP_SECRET,
      WHATSAPP_VERIFY_TOKEN: VERIFY_TOKEN,
      WHATSAPP_ACCESS_TOKEN: WA_TOKEN,
      WHATSAPP_GRAPH_URL: graph.url,
      RATE_LIMIT_STORE: "memory",
      CHAT_RATE_LIMIT_SITE_PER_MINUTE: "100000",
    },
  });
  chat = webChat(`${server.url}/functions/v1`);
}, 90_000);

afterAll(async () => {
  await server?.stop();
  await graph?.close();
  await db?.drop();
});

async function agents(path: string, init: { method?: string; json?: unknown } = {}) {
  const res = await fetch(`${server.url}/functions/v1/agents${path}`, {
    method: init.method ?? "GET",
    headers: { authorization: `Bearer ${agentToken}`, ...(init.json !== undefined ? { "content-type": "application/json" } : {}) },
    body: init.json !== undefined ? JSON.stringify(init.json) : undefined,
  });
  return { status: res.status, json: await res.json() as any };
}

interface FeedEvent {
  id?: string;
  event: string;
  data: any;
}

/** An open SSE connection to the feed, collecting its events as they come. */
async function openFeed() {
  const controller = new AbortController();
  const res = await fetch(`${server.url}/functions/v1/agents/feed?access_token=${agentToken}`, { signal: controller.signal });
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toMatch(/text\/event-stream/);
  const events: FeedEvent[] = [];
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  void (async () => {
    let buffer = "";
    for (;;) {
      const { value, done } = await reader.read().catch(() => ({ value: undefined, done: true as const }));
      if (done) return;
      buffer += decoder.decode(value, { stream: true });
      let cut;
      while ((cut = buffer.indexOf("\n\n")) >= 0) {
        const block = buffer.slice(0, cut);
        buffer = buffer.slice(cut + 2);
        const get = (k: string) => block.split("\n").find((l) => l.startsWith(`${k}: `))?.slice(k.length + 2);
        const event = get("event");
        if (event) events.push({ id: get("id"), event, data: JSON.parse(get("data") ?? "{}") });
      }
    }
  })();
  return {
    events,
    async waitFor(match: (e: FeedEvent) => boolean, timeoutMs = 8000): Promise<FeedEvent> {
      const started = Date.now();
      for (;;) {
        const hit = events.find(match);
        if (hit) return hit;
        if (Date.now() - started > timeoutMs) throw new Error(`no matching feed event within ${timeoutMs} ms (got ${events.map((e) => e.event).join(", ")})`);
        await new Promise((r) => setTimeout(r, 25));
      }
    },
    close: () => controller.abort(),
  };
}

/** The waiting session of a conversation, as the agent sees the queue. */
async function waitingSessionOf(conversationId: string) {
  const waiting = await agents("/sessions/waiting");
  expect(waiting.status).toBe(200);
  return waiting.json.sessions.find((s: any) => s.conversation.id === conversationId);
}

describe("a web-chat customer and an agent", () => {
  it("hands over, lets the agent accept and reply, streams the customer's next message, and ends on \"end chat\"", async () => {
    const feed = await openFeed();
    try {
      const started = await chat.start({ site_key: org.siteKey, customer: { name: "Jane" }, timezone: "America/Toronto" });
      expect(started.status).toBe(201);
      const { session_id: sid, session_token: stoken } = started.json;
      const conversationId = started.json.conversation.id;

      const asked = await chat.send(sid, stoken, { text: "I need a person, my furnace is off" });
      expect(asked.status).toBe(200);
      expect(asked.json.conversation.status).toBe("queued");

      // The agent sees it waiting (and the feed announced it).
      const session = await waitingSessionOf(conversationId);
      expect(session).toMatchObject({ status: "waiting", conversation: { channel: "web", customer_name: "Jane" } });
      await feed.waitFor((e) => e.event === "session.queued" && e.data.session_id === session.id);

      const accepted = await agents(`/sessions/${session.id}/assign`, { method: "POST" });
      expect(accepted.status).toBe(200);
      expect(accepted.json.session).toMatchObject({ status: "active", agent_id: agentId });
      expect((await waitingSessionOf(conversationId))).toBeUndefined();

      const reply = await agents(`/sessions/${session.id}/messages`, { method: "POST", json: { text: "Hi Jane, Casey here. Is the pilot light on?" } });
      expect(reply.status).toBe(201);
      expect(reply.json.message).toMatchObject({ sender: "agent", body: "Hi Jane, Casey here. Is the pilot light on?" });

      // The customer reads the reply in the session history.
      const history = await chat.history(sid, stoken);
      expect(history.status).toBe(200);
      expect(history.json.messages.some((m: any) => m.sender === "agent" && m.body === "Hi Jane, Casey here. Is the pilot light on?")).toBe(true);

      // The customer's next message goes to the agent (no bot answer) and arrives on the feed.
      const next = await chat.send(sid, stoken, { text: "No, it is off" });
      expect(next.status).toBe(200);
      expect(next.json.messages.filter((m: any) => m.sender === "bot")).toHaveLength(0);
      const event = await feed.waitFor((e) => e.event === "message" && e.data.body === "No, it is off");
      expect(event.data).toMatchObject({ sender: "customer", session_id: session.id, conversation_id: conversationId });
      expect(event.id).toBeTruthy();

      // "end chat": the session ends (customer_ended) and the bot has the conversation again.
      const ended = await chat.send(sid, stoken, { text: "end chat" });
      expect(ended.status).toBe(200);
      expect(ended.json.conversation.status).toBe("bot");
      const after = await agents(`/sessions/${session.id}`);
      expect(after.json.session).toMatchObject({ status: "ended", ended_reason: "customer_ended" });
      await feed.waitFor((e) => e.event === "session.ended" && e.data.session_id === session.id);
      const [conversation] = await db.sql`select status, assigned_agent_id from public.conversations where id = ${conversationId}`;
      expect(conversation).toEqual({ status: "bot", assigned_agent_id: null });
    } finally {
      feed.close();
    }
  });
});

describe("a WhatsApp customer and an agent", () => {
  it("delivers the agent's reply to the customer through the outbox and the Graph API, once", async () => {
    const from = `1416555${String(Math.floor(1000 + Math.random() * 8999))}`;
    const asked = await postWhatsApp(server.functionUrl("whatsapp-webhook"),
      whatsappEvent(org.phoneNumberId, [textMessage("I need a person, my sink is blocked", from)]));
    expect(asked.status).toBe(200);
    // The webhook answers once the message is stored; the hand-over follows right after.
    await expect.poll(async () => (await db.sql`select status from public.conversations where external_id = ${`${org.phoneNumberId}:${from}`}`)[0]?.status,
      { timeout: 8000 }).toBe("queued");
    const [conversation] = await db.sql`select id from public.conversations where external_id = ${`${org.phoneNumberId}:${from}`}`;

    const session = await waitingSessionOf(conversation.id);
    expect(session).toMatchObject({ status: "waiting", conversation: { channel: "whatsapp", customer_phone: `+${from}` } });
    expect((await agents(`/sessions/${session.id}/assign`, { method: "POST" })).status).toBe(200);
    const reply = await agents(`/sessions/${session.id}/messages`, {
      method: "POST", json: { text: "Hi, Casey here. Is water coming up anywhere else?", client_message_id: "r1" },
    });
    expect(reply.status).toBe(201);
    expect(typeof reply.json.outbox_id).toBe("number");
    // A retried POST with the same client_message_id finds the first reply.
    const retried = await agents(`/sessions/${session.id}/messages`, {
      method: "POST", json: { text: "Hi, Casey here. Is water coming up anywhere else?", client_message_id: "r1" },
    });
    expect([retried.status, retried.json.duplicate, retried.json.outbox_id]).toEqual([200, true, reply.json.outbox_id]);

    await expect.poll(() => graph.sent.filter((s) => s.to === `+${from}` && s.body?.text?.body === "Hi, Casey here. Is water coming up anywhere else?").length,
      { timeout: 8000 }).toBe(1);
    await expect.poll(async () => (await db.sql`select status from public.outbox where id = ${reply.json.outbox_id}`)[0].status,
      { timeout: 5000 }).toBe("sent");
    await new Promise((r) => setTimeout(r, 300));
    expect(graph.sent.filter((s) => s.to === `+${from}` && s.body?.text?.body === "Hi, Casey here. Is water coming up anywhere else?")).toHaveLength(1);

    // The customer leaves from WhatsApp too.
    const ended = await postWhatsApp(server.functionUrl("whatsapp-webhook"), whatsappEvent(org.phoneNumberId, [textMessage("end chat", from)]));
    expect(ended.status).toBe(200);
    await expect.poll(async () => (await agents(`/sessions/${session.id}`)).json.session.ended_reason, { timeout: 5000 }).toBe("customer_ended");
  });
});
