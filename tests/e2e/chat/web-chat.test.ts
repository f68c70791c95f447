// The web-chat API under real Deno, over HTTP, on a real Postgres, with the rule-based brain (no
// OPENAI_API_KEY): what a widget sees. Each test makes one session (or a few) and checks status, body
// and what the database holds.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../../support/database.ts";
import { type ChatOrg, createChatOrg, SERVICE_KEY, webChat } from "../../support/chat.ts";
import { type FunctionsServer, startFunctionsServer } from "../support/server.ts";

let db: TestDatabase;
let server: FunctionsServer;
let org: ChatOrg;
let chat: ReturnType<typeof webChat>;

beforeAll(async () => {
  db = await createTestDatabase();
  org = await createChatOrg(db.sql);
  server = await startFunctionsServer({
    env: { DATABASE_URL: db.url, SUPABASE_SERVICE_ROLE_KEY: SERVICE_KEY, RATE_LIMIT_STORE: "memory", CHAT_RATE_LIMIT_SITE_PER_MINUTE: "100000" },
  });
  chat = webChat(`${server.url}/functions/v1`);
}, 60_000);

afterAll(async () => {
  await server?.stop();
  await db?.drop();
});

async function session(customer: Record<string, unknown> = { name: "Jane" }, timezone = "America/Toronto") {
  const res = await chat.start({ site_key: org.siteKey, customer, timezone });
  expect(res.status).toBe(201);
  return res.json as { session_id: string; session_token: string; conversation: { id: string } };
}

describe("starting a session", () => {
  it("returns a session id, a separate random token and the greeting with two buttons", async () => {
    const res = await chat.start({ site_key: org.siteKey, customer: { name: "Jane", phone: "416 555 0199" }, timezone: "America/Toronto" });
    expect(res.status).toBe(201);
    expect(res.json.session_id).toMatch(/^[0-9a-f-]{36}$/);
    expect(res.json.session_token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(res.json.session_token).not.toContain(res.json.session_id);
    expect(res.json.messages).toHaveLength(1);
    expect(res.json.messages[0].body).toContain("Hi Jane");
    expect(res.json.messages[0].buttons.map((b: { id: string }) => b.id)).toEqual(["AGENT_MODE", "SCHEDULE_CALLBACK"]);
    const [row] = await db.sql`select channel, customer_phone, status from public.conversations where external_id = ${res.json.session_id}`;
    expect(row).toEqual({ channel: "web", customer_phone: "+14165550199", status: "bot" });
    const [stored] = await db.sql`select encode(token_hash, 'hex') as h from public.chat_sessions where id = ${res.json.session_id}`;
    expect(stored.h).not.toContain(res.json.session_token);
  });

  it("refuses an unknown site key with 404, bad fields with 400 and other media types with 415", async () => {
    expect((await chat.start({ site_key: "no-such-site" })).json.error.code).toBe("NOT_FOUND");
    const bad = await chat.start({ site_key: org.siteKey, timezone: "Mars/Olympus" });
    expect([bad.status, bad.json.error.code]).toEqual([400, "BAD_REQUEST"]);
    const extra = await chat.start({ site_key: org.siteKey, admin: true });
    expect(extra.status).toBe(400);
    const res = await fetch(`${server.url}/functions/v1/chat/sessions`, { method: "POST", body: "site_key=x" });
    expect(res.status).toBe(415);
  });

  it("refuses a disabled site", async () => {
    const other = await createChatOrg(db.sql, { name: "Closed Co" });
    await db.sql`update public.chat_sites set enabled = false where site_key = ${other.siteKey}`;
    const res = await chat.start({ site_key: other.siteKey });
    expect([res.status, res.json.error.code]).toEqual([404, "NOT_FOUND"]);
  });
});

describe("rate limits", () => {
  it("refuses a site's requests past its own per-minute limit with 429 and Retry-After", async () => {
    const limited = await createChatOrg(db.sql, { name: "Small Site Co" });
    await db.sql`update public.chat_sites set rate_limit_per_minute = 2 where site_key = ${limited.siteKey}`;
    const s = (await chat.start({ site_key: limited.siteKey })).json;
    const statuses = [];
    for (let i = 0; i < 4; i++) {
      const res = await chat.send(s.session_id, s.session_token, { text: `hello ${i}` });
      statuses.push(res.status);
      if (res.status === 429) {
        expect(res.json.error.code).toBe("RATE_LIMITED");
        expect(Number(res.headers.get("retry-after"))).toBeGreaterThan(0);
      }
    }
    expect(statuses).toEqual([200, 200, 429, 429]);
  });
});

describe("tokens", () => {
  it("answers 401 without a token or with an unknown one, and 404 for another session's id with a valid token", async () => {
    const mine = await session();
    const theirs = await session();
    expect((await chat.send(mine.session_id, null, { text: "hi" })).status).toBe(401);
    expect((await chat.send(mine.session_id, "x".repeat(43), { text: "hi" })).status).toBe(401);
    const cross = await chat.history(theirs.session_id, mine.session_token);
    expect([cross.status, cross.json.error.code]).toEqual([404, "NOT_FOUND"]);
    expect((await chat.history(mine.session_id, mine.session_token)).status).toBe(200);
  });
});

describe("the rule-based brain", () => {
  it("greets back with the two buttons", async () => {
    const s = await session();
    const res = await chat.send(s.session_id, s.session_token, { text: "hello" });
    expect(res.status).toBe(200);
    expect(res.json.messages[0].body).toMatch(/How can I help/);
    expect(res.json.actions).toEqual([]);
    expect(res.json.conversation.status).toBe("bot");
  });

  it("hands over when asked in words, with a summary for the human", async () => {
    const s = await session();
    await chat.send(s.session_id, s.session_token, { text: "My furnace is making a loud banging noise" });
    const res = await chat.send(s.session_id, s.session_token, { text: "can you connect me to someone please" });
    expect(res.json.actions).toEqual([expect.objectContaining({ type: "handoff_requested", changed: true, status: "queued" })]);
    expect(res.json.conversation.status).toBe("queued");
    const [c] = await db.sql`select summary from public.conversations where external_id = ${s.session_id}`;
    expect(c.summary).toContain("furnace");
  });

  it("hands over from the AGENT_MODE button, once however often it is pressed", async () => {
    const s = await session();
    const first = await chat.send(s.session_id, s.session_token, { button: "AGENT_MODE" });
    expect(first.json.actions[0]).toMatchObject({ type: "handoff_requested", changed: true });
    const again = await chat.send(s.session_id, s.session_token, { button: "AGENT_MODE" });
    // A person owns the conversation now: the bot stays quiet.
    expect(again.json.messages).toEqual([]);
    const [{ n }] = await db.sql`
      select count(*)::int as n from public.conversation_actions a join public.conversations c on c.id = a.conversation_id
      where c.external_id = ${s.session_id} and a.type = 'handoff_requested' and a.changed`;
    expect(n).toBe(1);
  });

  it("schedules a callback from the button: asks, then books it in the customer's timezone with the real issue as subject", async () => {
    const s = await session({ name: "Jane Cooper", email: "jane@example.com" }, "America/Vancouver");
    await chat.send(s.session_id, s.session_token, { text: "My water heater is leaking from the bottom" });
    const asked = await chat.send(s.session_id, s.session_token, { button: "SCHEDULE_CALLBACK" });
    expect(asked.json.messages[0].body).toMatch(/When suits you/);
    const done = await chat.send(s.session_id, s.session_token, { text: "tomorrow at 2pm, 416-555-0199" });
    const action = done.json.actions[0];
    expect(action).toMatchObject({
      type: "callback_scheduled",
      changed: true,
      timezone: "America/Vancouver",
      phone: "+14165550199",
      subject: "Callback: My water heater is leaking from the bottom",
    });
    expect(action.scheduled_for).toMatch(/T14:00:00-0[78]:00$/);
    const [cb] = await db.sql`select description, source, scheduled_for from public.callbacks where id = ${action.id}`;
    expect(cb.source).toBe("button");
    expect(cb.description).toContain("Jane Cooper");
    expect(cb.description).toContain("jane@example.com");
    expect(cb.description).toContain('As said: "tomorrow at 2pm"');
    // The working memory is dropped after the action.
    const memory = await db.sql`select 1 from public.bot_memory m join public.conversations c on c.id = m.conversation_id where c.external_id = ${s.session_id}`;
    expect(memory).toHaveLength(0);
  });

  it("asks again for a time that has passed or a number it cannot read", async () => {
    const s = await session();
    await chat.send(s.session_id, s.session_token, { text: "please call me back" });
    const past = await chat.send(s.session_id, s.session_token, { text: "yesterday at 3pm" });
    expect(past.json.messages[0].body).toMatch(/already passed/);
    expect(past.json.actions).toEqual([]);
    const badPhone = await chat.send(s.session_id, s.session_token, { text: "tomorrow at 10am on 12345" });
    expect(badPhone.json.actions).toEqual([]);
    expect(badPhone.json.messages[0].body).toMatch(/Which (phone )?number/);
    const ok = await chat.send(s.session_id, s.session_token, { text: "(647) 555-0123" });
    expect(ok.json.actions[0]).toMatchObject({ type: "callback_scheduled", phone: "+16475550123" });
  });

  it("books a callback asked for in one message without a button", async () => {
    const s = await session();
    const res = await chat.send(s.session_id, s.session_token, { text: "Could someone call me back tomorrow at 9:30am on 416 555 0142? The AC won't turn on" });
    expect(res.json.actions[0]).toMatchObject({ type: "callback_scheduled", phone: "+14165550142" });
    expect(res.json.actions[0].subject).toMatch(/^Callback: /);
    expect(res.json.actions[0].subject).not.toMatch(/None|undefined|null/);
  });

  it("closes the conversation when the customer says it is resolved, keeping their words", async () => {
    const s = await session();
    const res = await chat.send(s.session_id, s.session_token, { text: "that fixed it, thanks!" });
    expect(res.json.actions).toEqual([expect.objectContaining({ type: "conversation_closed", changed: true })]);
    expect(res.json.conversation).toMatchObject({ status: "resolved", resolution_reason: "completed" });
    const [c] = await db.sql`select metadata->>'close_reason' as reason from public.conversations where external_id = ${s.session_id}`;
    expect(c.reason).toBe("that fixed it, thanks!");
  });

  it("does not close on a negated resolution and offers a person instead of guessing", async () => {
    const s = await session();
    const res = await chat.send(s.session_id, s.session_token, { text: "the issue is not resolved, it still leaks" });
    expect(res.json.actions).toEqual([]);
    expect(res.json.messages[0].body).toMatch(/talk to a person/);
  });
});

describe("history, debug and idempotency", () => {
  it("returns the whole history, including what a human agent writes later", async () => {
    const s = await session();
    await chat.send(s.session_id, s.session_token, { text: "hi" });
    await db.sql`
      insert into public.messages (conversation_id, org_id, sender_type, body)
      select c.id, c.org_id, 'agent', 'Hello, this is Sam from the team' from public.conversations c where c.external_id = ${s.session_id}`;
    const res = await chat.history(s.session_id, s.session_token);
    expect(res.json.messages.map((m: { sender: string }) => m.sender)).toEqual(["bot", "customer", "bot", "agent"]);
    expect(res.json.messages.at(-1).body).toBe("Hello, this is Sam from the team");
  });

  it("stores and answers a retried message once when it carries a client_message_id", async () => {
    const s = await session();
    const body = { text: "hello there", client_message_id: "m-1" };
    const results = await Promise.all([1, 2, 3, 4, 5].map(() => chat.send(s.session_id, s.session_token, body)));
    expect(results.every((r) => r.status === 200)).toBe(true);
    const [{ customer, bot }] = await db.sql`
      select count(*) filter (where m.sender_type = 'customer')::int as customer,
             count(*) filter (where m.sender_type = 'bot' and m.metadata ? 'reply_to')::int as bot
      from public.messages m join public.conversations c on c.id = m.conversation_id where c.external_id = ${s.session_id}`;
    expect({ customer, bot }).toEqual({ customer: 1, bot: 1 });
  });

  it("creates one callback when the button and the words ask at the same time", async () => {
    const s = await session();
    await chat.send(s.session_id, s.session_token, { text: "my furnace is out" });
    await chat.send(s.session_id, s.session_token, { text: "call me back" });
    const asks = await Promise.all([
      chat.send(s.session_id, s.session_token, { text: "tomorrow at 11am on 416 555 0199" }),
      chat.send(s.session_id, s.session_token, { text: "tomorrow at 11am, 416-555-0199 please" }),
      chat.send(s.session_id, s.session_token, { text: "call me tomorrow 11am 4165550199" }),
    ]);
    expect(asks.every((r) => r.status === 200)).toBe(true);
    const [{ n }] = await db.sql`
      select count(*)::int as n from public.callbacks cb join public.conversations c on c.id = cb.conversation_id
      where c.external_id = ${s.session_id}`;
    expect(n).toBe(1);
  });

  it("shows operators the debug view behind the service role key only", async () => {
    const s = await session();
    await chat.send(s.session_id, s.session_token, { text: "talk to a human" });
    expect((await chat.debug(s.session_id, null)).status).toBe(401);
    expect((await chat.debug(s.session_id, "wrong-key-0123456789abcdef")).status).toBe(401);
    const res = await chat.debug(s.session_id, SERVICE_KEY);
    expect(res.status).toBe(200);
    expect(res.json.messages.length).toBe(3);
    expect(res.json.last_action).toMatchObject({ type: "handoff_requested", source: "rules" });
    expect(res.json.state.status).toBe("queued");
    expect(res.json.llm_calls).toEqual([]);
    expect(JSON.stringify(res.json)).not.toContain("token_hash");
  });
});
