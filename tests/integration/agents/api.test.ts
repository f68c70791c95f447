// The agents' API in process against real Postgres: authentication (jose, HS256), work as the agent
// under RLS, the queue, accept, replies through the outbox, transfer, end, stats, and the live feed
// resuming with Last-Event-ID.
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import buildHandler from "../../../functions/agents/handler.ts";
import { settleBackground } from "../../../functions/_shared/runtime/background.ts";
import { createTestDatabase, type TestDatabase } from "../../support/database.ts";
import { ALEX, BLAIR, loadSeed, MORGAN, ORG, queuedConversation, SECRET, token } from "./support.ts";

let db: TestDatabase;
let handler: (req: Request) => Promise<Response>;
const base = "http://local/functions/v1/agents";

async function api(path: string, init: RequestInit & { as?: string; json?: unknown } = {}) {
  const headers = new Headers(init.headers);
  if (init.as) headers.set("authorization", `Bearer ${await token(init.as)}`);
  if (init.json !== undefined) headers.set("content-type", "application/json");
  const res = await handler(new Request(`${base}${path}`, { ...init, headers, body: init.json !== undefined ? JSON.stringify(init.json) : init.body }));
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

beforeAll(async () => {
  db = await createTestDatabase();
  await loadSeed(db.sql);
  handler = buildHandler({ DATABASE_URL: db.url, SUPABASE_JWT_SECRET: SECRET, LOG_LEVEL: "error", AGENTS_FEED_POLL_MS: "200" }, { outbox: null });
});
afterAll(async () => {
  await settleBackground();
  await db?.drop();
});

describe("authentication", () => {
  it("answers 401 UNAUTHORIZED without a token, with a bad signature, expired, or for a user who is not an agent", async () => {
    expect((await api("/sessions/waiting")).body.error.code).toBe("UNAUTHORIZED");
    const forged = await token(ALEX.user, { secret: "another-secret-another-secret-0123456789" });
    expect((await api("/sessions/waiting", { headers: { authorization: `Bearer ${forged}` } })).status).toBe(401);
    const expired = await token(ALEX.user, { ttlSeconds: -10 });
    expect((await api("/sessions/waiting", { headers: { authorization: `Bearer ${expired}` } })).status).toBe(401);
    await db.sql`insert into auth.users (id, email) values ('00000000-0000-4000-8000-0000000007ff', 'nobody@example.com')`;
    const res = await api("/sessions/waiting", { as: "00000000-0000-4000-8000-0000000007ff" });
    expect(res.status).toBe(401);
    expect(res.body.error.code).toBe("UNAUTHORIZED");
  });

  it("answers 403 FORBIDDEN when an agent asks for supervisors' views", async () => {
    expect((await api("/sessions/all", { as: ALEX.user })).body.error.code).toBe("FORBIDDEN");
    expect((await api(`/sessions/my-chats/${BLAIR.agent}`, { as: ALEX.user })).status).toBe(403);
    expect((await api("/stats", { as: ALEX.user })).status).toBe(403);
    expect((await api("/sessions/all", { as: MORGAN.user })).status).toBe(200);
  });
});

describe("a hand-over from waiting to ended", () => {
  it("shows the queue, lets one agent accept, delivers replies through the outbox once, and ends", async () => {
    const conversation = await queuedConversation(db.sql, "whatsapp");
    const waiting = await api("/sessions/waiting", { as: ALEX.user });
    expect(waiting.status).toBe(200);
    const session = waiting.body.sessions.find((s: { conversation: { id: string } }) => s.conversation.id === conversation);
    expect(session.status).toBe("waiting");

    const accepted = await api(`/sessions/${session.id}/assign`, { method: "POST", as: ALEX.user });
    expect(accepted.status).toBe(200);
    expect(accepted.body.session.agent_id).toBe(ALEX.agent);
    const second = await api(`/sessions/${session.id}/assign`, { method: "POST", as: BLAIR.user });
    expect(second.body.error.code).toBe("CONFLICT");

    const reply = { text: "Hi, this is Alex. Let's get that furnace going.", client_message_id: "r-1" };
    const sent = await api(`/sessions/${session.id}/messages`, { method: "POST", as: ALEX.user, json: reply });
    expect(sent.status).toBe(201);
    const again = await api(`/sessions/${session.id}/messages`, { method: "POST", as: ALEX.user, json: reply });
    expect(again.status).toBe(200);
    expect(again.body.duplicate).toBe(true);
    const outbox = await db.sql`select recipient, payload, idempotency_key from public.outbox where conversation_id = ${conversation}`;
    expect(outbox).toHaveLength(1);
    expect(outbox[0].payload.text).toBe(reply.text);
    expect(outbox[0].payload.phone_number_id).toBe("100000000000001");

    // Blair may not read Alex's chat; Morgan (supervisor) may.
    expect((await api(`/sessions/${session.id}/messages`, { as: BLAIR.user })).status).toBe(403);
    const read = await api(`/sessions/${session.id}/messages`, { as: MORGAN.user });
    expect(read.body.messages.map((m: { sender: string }) => m.sender)).toEqual(["customer", "agent"]);

    const ended = await api(`/sessions/${session.id}/end`, { method: "POST", as: ALEX.user });
    expect(ended.body.session.status).toBe("ended");
    expect(ended.body.session.ended_reason).toBe("agent_ended");
    const [conv] = await db.sql`select status from public.conversations where id = ${conversation}`;
    expect(conv.status).toBe("resolved");

    const stats = await api("/stats", { as: MORGAN.user });
    const alex = stats.body.days.find((d: { agent_id: string }) => d.agent_id === ALEX.agent);
    expect(alex.sessions_accepted).toBeGreaterThanOrEqual(1);
    expect(alex.sessions_ended).toBeGreaterThanOrEqual(1);
  });

  it("transfers to a skill (back to the queue) and to an agent (at once)", async () => {
    const conversation = await queuedConversation(db.sql, "web");
    const [{ id }] = await db.sql`select id from public.agent_sessions where conversation_id = ${conversation} and status = 'waiting'`;
    await api(`/sessions/${id}/assign`, { method: "POST", as: ALEX.user });
    const toSkill = await api(`/sessions/${id}/transfer`, { method: "POST", as: ALEX.user, json: { skill: "plumbing" } });
    expect(toSkill.body.session.status).toBe("waiting");
    expect(toSkill.body.session.required_skill).toBe("plumbing");
    const next = toSkill.body.session.id;
    await api(`/sessions/${next}/assign`, { method: "POST", as: BLAIR.user });
    const toAgent = await api(`/sessions/${next}/transfer`, { method: "POST", as: BLAIR.user, json: { agent_id: MORGAN.agent } });
    expect(toAgent.body.session.status).toBe("active");
    expect(toAgent.body.session.agent_id).toBe(MORGAN.agent);
    const ended = await db.sql`select ended_reason from public.agent_sessions where conversation_id = ${conversation} and status = 'ended'`;
    expect(ended.map((r) => r.ended_reason)).toEqual(["transferred", "transferred"]);
  });

  it("refuses bad input with 400 BAD_REQUEST, never 500", async () => {
    expect((await api("/sessions/not-a-uuid/assign", { method: "POST", as: ALEX.user })).body.error.code).toBe("BAD_REQUEST");
    expect((await api("/me", { method: "PATCH", as: ALEX.user, json: { status: "asleep" } })).status).toBe(400);
    expect((await api("/sessions/history?limit=0", { as: ALEX.user })).status).toBe(400);
    expect((await api("/sessions/start/not-a-phone", { method: "POST", as: ALEX.user })).status).toBe(400);
    expect((await api(`/sessions/${crypto.randomUUID()}/end`, { method: "POST", as: ALEX.user })).body.error.code).toBe("NOT_FOUND");
  });
});

describe("the live feed", () => {
  async function readEvents(res: Response, until: (events: { id: string; event: string; data: any }[]) => boolean) {
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let buffer = "";
    const events: { id: string; event: string; data: any }[] = [];
    const deadline = Date.now() + 10_000;
    while (!until(events) && Date.now() < deadline) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, { stream: true });
      let cut;
      while ((cut = buffer.indexOf("\n\n")) >= 0) {
        const block = buffer.slice(0, cut);
        buffer = buffer.slice(cut + 2);
        const get = (k: string) => block.split("\n").find((l) => l.startsWith(`${k}: `))?.slice(k.length + 2);
        if (get("event")) events.push({ id: get("id")!, event: get("event")!, data: JSON.parse(get("data") ?? "{}") });
      }
    }
    await reader.cancel();
    return events;
  }

  it("delivers an event written while the client was reconnecting, after its Last-Event-ID", async () => {
    const t = await token(ALEX.user);
    const first = await handler(new Request(`${base}/feed?access_token=${t}`));
    expect(first.status).toBe(200);
    expect(first.headers.get("content-type")).toMatch(/text\/event-stream/);
    const conversation = await queuedConversation(db.sql, "web");
    const seen = await readEvents(first, (e) => e.some((x) => x.event === "session.queued" && x.data.conversation_id === conversation));
    const last = seen.at(-1)!;
    // Disconnected: a message arrives in the meantime.
    await db.sql`select public.chat_add_customer_message(${conversation}::uuid, 'are you there?')`;
    const second = await handler(new Request(`${base}/feed`, { headers: { authorization: `Bearer ${t}`, "last-event-id": last.id } }));
    const resumed = await readEvents(second, (e) => e.some((x) => x.event === "message"));
    const message = resumed.find((x) => x.event === "message")!;
    expect(message.data.body).toBe("are you there?");
    expect(resumed.every((x) => x.id !== last.id)).toBe(true);
  });

  it("delivers events at once while a long transaction runs elsewhere on the server", async () => {
    // An unrelated writer that stays open (another database would do the same: xids are server-wide).
    const other = postgres(db.url, { max: 1, onnotice: () => {} });
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const holding = other.begin(async (tx) => {
      await tx`select pg_current_xact_id()`;
      await held;
    });
    try {
      await new Promise((r) => setTimeout(r, 100));
      const t = await token(ALEX.user);
      const res = await handler(new Request(`${base}/feed?access_token=${t}`));
      const conversation = await queuedConversation(db.sql, "web");
      const started = Date.now();
      const events = await readEvents(res, (e) => e.some((x) => x.event === "session.queued" && x.data.conversation_id === conversation));
      expect(events.some((x) => x.event === "session.queued" && x.data.conversation_id === conversation)).toBe(true);
      expect(Date.now() - started).toBeLessThan(5_000);
    } finally {
      release();
      await holding;
      await other.end();
    }
  });

  it("delivers an event whose transaction started first but committed after a later one", async () => {
    // The slow writer logs its event directly, so that it holds no row the fast writer needs (a
    // message would hold the day's rollup row until it commits).
    const fast = await queuedConversation(db.sql, "web");
    const t = await token(ALEX.user);
    const res = await handler(new Request(`${base}/feed?access_token=${t}`));
    const early = postgres(db.url, { max: 1, onnotice: () => {} });
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let begun!: () => void;
    const wrote = new Promise<void>((r) => (begun = r));
    const writing = early.begin(async (tx) => {
      await tx`insert into public.agent_events (org_id, type, payload)
               values (${ORG}::uuid, 'message', ${tx.json({ body: "first begun, last committed" })})`;
      begun();
      await held;
    });
    try {
      await wrote;
      await db.sql`select public.chat_add_customer_message(${fast}::uuid, 'begun later, committed first')`;
      setTimeout(release, 500);
      const events = await readEvents(res, (e) => e.filter((x) => x.event === "message").length >= 2);
      // Both arrive, each once, in the order they became visible.
      expect(events.filter((x) => x.event === "message").map((x) => x.data.body)).toEqual(["begun later, committed first", "first begun, last committed"]);
      expect(new Set(events.map((x) => x.data.id)).size).toBe(events.length);
    } finally {
      release();
      await writing;
      await early.end();
    }
  });

  it("answers 400 BAD_REQUEST for a Last-Event-ID that is not a position of this feed", async () => {
    const t = await token(ALEX.user);
    const res = await handler(new Request(`${base}/feed`, { headers: { authorization: `Bearer ${t}`, "last-event-id": "9:3:" } }));
    expect(res.status).toBe(400);
    expect((await res.json()).error.code).toBe("BAD_REQUEST");
  });

  it("does not show another organisation's events", async () => {
    await db.sql`insert into public.orgs (id, name) values ('00000000-0000-4000-8000-00000000b001', 'Other') on conflict do nothing`;
    const t = await token(ALEX.user);
    const res = await handler(new Request(`${base}/feed`, { headers: { authorization: `Bearer ${t}` } }));
    const other = await queuedConversation(db.sql, "web", "00000000-0000-4000-8000-00000000b001");
    const mine = await queuedConversation(db.sql, "web");
    const events = await readEvents(res, (e) => e.some((x) => x.data.conversation_id === mine));
    expect(events.some((x) => x.data.conversation_id === other)).toBe(false);
    expect(events.every((x) => x.event === "ready" || x.data.conversation_id === mine || x.data.org_id === undefined)).toBe(true);
  });
});
