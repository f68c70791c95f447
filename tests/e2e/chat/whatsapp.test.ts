// The WhatsApp channel under real Deno, over HTTP, with Meta-signed events, a real Postgres and a
// local Graph API server that records what WhatsApp would receive. The rule-based brain answers.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startGraphApi, type GraphApi } from "../../../scripts/stand-ins/graph-api.mjs";
import { createTestDatabase, type TestDatabase } from "../../support/database.ts";
import {
  APP_SECRET,
  buttonReply,
  type ChatOrg,
  createChatOrg,
  postWhatsApp,
  SERVICE_KEY,
  textMessage,
  VERIFY_TOKEN,
  WA_TOKEN,
  webChat,
  whatsappEvent,
} from "../../support/chat.ts";
import { type FunctionsServer, startFunctionsServer } from "../support/server.ts";

let db: TestDatabase;
let server: FunctionsServer;
let graph: GraphApi;
let org: ChatOrg;
let url: string;

const env = () => ({
  DATABASE_URL: db.url,
  SUPABASE_SERVICE_ROLE_KEY: SERVICE_KEY,
  WHATSAPP_APP_SECRET: APP_SECRET,
  WHATSAPP_VERIFY_TOKEN: VERIFY_TOKEN,
  WHATSAPP_ACCESS_TOKEN: WA_TOKEN,
  WHATSAPP_GRAPH_URL: graph.url,
  RATE_LIMIT_STORE: "memory",
});

beforeAll(async () => {
  db = await createTestDatabase();
  graph = await startGraphApi({ tokens: [WA_TOKEN] });
  org = await createChatOrg(db.sql);
  server = await startFunctionsServer({ env: env() });
  url = server.functionUrl("whatsapp-webhook");
}, 60_000);

afterAll(async () => {
  await server?.stop();
  await graph?.close();
  await db?.drop();
});

beforeEach(() => graph.clear());

/** Waits until the Graph server has received `n` messages for `to`. */
async function sentTo(to: string, n: number, timeoutMs = 8000) {
  const started = Date.now();
  for (;;) {
    const list = graph.sent.filter((s) => s.to === to);
    if (list.length >= n) return list;
    if (Date.now() - started > timeoutMs) throw new Error(`expected ${n} messages to ${to}, got ${list.length}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function customer(): string {
  return `1416555${String(Math.floor(1000 + Math.random() * 8999))}`;
}

describe("verification handshake", () => {
  it("echoes the challenge as text for the right token and refuses a wrong one", async () => {
    const ok = await fetch(`${url}?hub.mode=subscribe&hub.verify_token=${VERIFY_TOKEN}&hub.challenge=1158201444`);
    expect(ok.status).toBe(200);
    expect(ok.headers.get("content-type")).toContain("text/plain");
    expect(await ok.text()).toBe("1158201444");
    const bad = await fetch(`${url}?hub.mode=subscribe&hub.verify_token=nope&hub.challenge=1`);
    expect(bad.status).toBe(403);
  });
});

describe("signatures and bad input", () => {
  it("refuses unsigned and forged events with 401 and stores nothing", async () => {
    const from = customer();
    const payload = whatsappEvent(org.phoneNumberId, [textMessage("hi", from)]);
    const unsigned = await postWhatsApp(url, payload, { secret: null });
    expect([unsigned.status, unsigned.json.error.code]).toEqual([401, "SIGNATURE_MISSING"]);
    const forged = await postWhatsApp(url, payload, { secret: "not-the-app-secret" });
    expect([forged.status, forged.json.error.code]).toEqual([401, "SIGNATURE_INVALID"]);
    const rows = await db.sql`select 1 from public.conversations where external_id = ${`${org.phoneNumberId}:${from}`}`;
    expect(rows).toHaveLength(0);
  });

  it("answers malformed JSON with 400 and a non-WhatsApp object with 422, never 500", async () => {
    const broken = await postWhatsApp(url, null, { rawBody: '{"object": "whatsapp_business_account", "entry": [' });
    expect([broken.status, broken.json.error.code]).toEqual([400, "INVALID_JSON"]);
    const other = await postWhatsApp(url, { object: "page", entry: [] });
    expect([other.status, other.json.error.code]).toEqual([422, "INVALID_EVENT"]);
    const weird = await postWhatsApp(url, { object: "whatsapp_business_account", entry: [{ changes: [{ field: "messages", value: { messages: [{ from: "x" }] } }] }] });
    expect(weird.status).toBe(200);
  });
});

describe("messages", () => {
  it("answers 200 once stored, then replies through the Graph API with buttons", async () => {
    const from = customer();
    const res = await postWhatsApp(url, whatsappEvent(org.phoneNumberId, [textMessage("hello", from)]));
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ received: 1, duplicates: 0 });
    const [sent] = await sentTo(`+${from}`, 1);
    expect(sent.phone_number_id).toBe(org.phoneNumberId);
    expect(sent.body.type).toBe("interactive");
    expect(sent.body.interactive.action.buttons.map((b: any) => b.reply.id)).toEqual(["AGENT_MODE", "SCHEDULE_CALLBACK"]);
    for (const b of sent.body.interactive.action.buttons) expect([...b.reply.title].length).toBeLessThanOrEqual(20);
    // The outbox row is sent, with the wamid Meta returned.
    await expect.poll(async () => (await db.sql`
      select o.status, o.provider_message_id from public.outbox o join public.conversations c on c.id = o.conversation_id
      where c.external_id = ${`${org.phoneNumberId}:${from}`}`)[0], { timeout: 5000 }).toEqual({ status: "sent", provider_message_id: sent.id });
  });

  it("ignores a replayed wamid: one message stored, one reply sent", async () => {
    const from = customer();
    const message = textMessage("hello", from);
    const payload = whatsappEvent(org.phoneNumberId, [message]);
    const results = await Promise.all([1, 2, 3, 4].map(() => postWhatsApp(url, payload)));
    expect(results.map((r) => r.status)).toEqual([200, 200, 200, 200]);
    expect(results.reduce((n, r) => n + r.json.received, 0)).toBe(1);
    await sentTo(`+${from}`, 1);
    await new Promise((r) => setTimeout(r, 500));
    expect(graph.sent.filter((s) => s.to === `+${from}`)).toHaveLength(1);
    const again = await postWhatsApp(url, payload);
    expect(again.json).toMatchObject({ received: 0, duplicates: 1 });
  });

  it("hands over from the AGENT_MODE reply button", async () => {
    const from = customer();
    await postWhatsApp(url, whatsappEvent(org.phoneNumberId, [textMessage("my sink is blocked", from)]));
    await sentTo(`+${from}`, 1);
    await postWhatsApp(url, whatsappEvent(org.phoneNumberId, [buttonReply("AGENT_MODE", "Talk to a person", from)]));
    const [, handoff] = await sentTo(`+${from}`, 2);
    expect(handoff.body.text.body).toMatch(/connecting you/);
    const [c] = await db.sql`select status, summary from public.conversations where external_id = ${`${org.phoneNumberId}:${from}`}`;
    expect(c).toEqual({ status: "queued", summary: "my sink is blocked" });
  });

  it("books a callback on the customer's own number with the 'Call this number' button", async () => {
    const from = customer();
    await postWhatsApp(url, whatsappEvent(org.phoneNumberId, [textMessage("I'd like a callback about my boiler", from)]));
    const [ask] = await sentTo(`+${from}`, 1);
    expect(ask.body.interactive.body.text).toMatch(/When suits you/);
    await postWhatsApp(url, whatsappEvent(org.phoneNumberId, [textMessage("monday at 10am", from)]));
    const [, askPhone] = await sentTo(`+${from}`, 2);
    expect(askPhone.body.interactive.action.buttons[0].reply.id).toBe("CALLBACK_USE_THIS_NUMBER");
    await postWhatsApp(url, whatsappEvent(org.phoneNumberId, [buttonReply("CALLBACK_USE_THIS_NUMBER", "Call this number", from)]));
    await sentTo(`+${from}`, 3);
    const [cb] = await db.sql`
      select cb.phone, cb.subject, cb.source from public.callbacks cb join public.conversations c on c.id = cb.conversation_id
      where c.external_id = ${`${org.phoneNumberId}:${from}`}`;
    expect(cb).toEqual({ phone: `+${from}`, subject: "Callback: I'd like a callback about my boiler", source: "rules" });
  });

  it("records delivery statuses, tolerating order: read is not undone by a late delivered", async () => {
    const from = customer();
    await postWhatsApp(url, whatsappEvent(org.phoneNumberId, [textMessage("hi", from)]));
    const [sent] = await sentTo(`+${from}`, 1);
    await expect.poll(async () => (await db.sql`select 1 from public.outbox where provider_message_id = ${sent.id}`).length).toBe(1);
    const status = (s: string) => ({ id: sent.id, status: s, timestamp: "1", recipient_id: from });
    await postWhatsApp(url, whatsappEvent(org.phoneNumberId, [], { statuses: [status("read")] }));
    await postWhatsApp(url, whatsappEvent(org.phoneNumberId, [], { statuses: [status("delivered")] }));
    const [row] = await db.sql`select delivery_status from public.outbox where provider_message_id = ${sent.id}`;
    expect(row.delivery_status).toBe("read");
  });

  it("does not send free-form text outside the 24-hour window: the row is cancelled with the reason", async () => {
    const from = customer();
    await postWhatsApp(url, whatsappEvent(org.phoneNumberId, [textMessage("hi", from)]));
    await sentTo(`+${from}`, 1);
    const [c] = await db.sql`
      update public.conversations set last_customer_message_at = now() - interval '25 hours'
      where external_id = ${`${org.phoneNumberId}:${from}`} returning id, org_id`;
    const [m] = await db.sql`insert into public.messages (conversation_id, org_id, sender_type, body) values (${c.id}, ${c.org_id}, 'agent', 'late reply') returning id`;
    await db.sql`
      update public.conversations set last_customer_message_at = now() - interval '25 hours' where id = ${c.id}`;
    await db.sql`
      insert into public.outbox (org_id, conversation_id, message_id, channel, recipient, payload, idempotency_key)
      values (${c.org_id}, ${c.id}, ${m.id}, 'whatsapp', ${from}, ${db.sql.json({ phone_number_id: org.phoneNumberId, text: "late reply" })}, ${`test:${m.id}`})`;
    const swept = await webChat(`${server.url}/functions/v1`).sweep(SERVICE_KEY);
    expect(swept.status).toBe(200);
    const [row] = await db.sql`select status, last_error from public.outbox where idempotency_key = ${`test:${m.id}`}`;
    expect(row.status).toBe("cancelled");
    expect(row.last_error).toMatch(/outside_customer_service_window/);
    expect(graph.sent.filter((s) => s.to === `+${from}`)).toHaveLength(1);
  });

  it("sends the number's configured template outside the 24-hour window, the text as its {{1}}", async () => {
    const other = await createChatOrg(db.sql, { name: "Template Co" });
    await db.sql`update public.whatsapp_numbers set outside_window_template = ${db.sql.json({ name: "follow_up", language: "en_US" })}
      where phone_number_id = ${other.phoneNumberId}`;
    const from = customer();
    await postWhatsApp(url, whatsappEvent(other.phoneNumberId, [textMessage("hi", from)]));
    await sentTo(`+${from}`, 1);
    const [c] = await db.sql`
      update public.conversations set last_customer_message_at = now() - interval '25 hours'
      where external_id = ${`${other.phoneNumberId}:${from}`} returning id, org_id`;
    await db.sql`
      insert into public.outbox (org_id, conversation_id, channel, recipient, payload, idempotency_key)
      values (${c.org_id}, ${c.id}, 'whatsapp', ${from}, ${db.sql.json({ phone_number_id: other.phoneNumberId, text: "We have an update on your repair" })}, ${`tpl:${c.id}`})`;
    await webChat(`${server.url}/functions/v1`).sweep(SERVICE_KEY);
    const [, template] = await sentTo(`+${from}`, 2);
    expect(template.body.type).toBe("template");
    expect(template.body.template).toMatchObject({ name: "follow_up", language: { code: "en_US" } });
    expect(template.body.template.components[0].parameters[0].text).toBe("We have an update on your repair");
  });

  it("retries a reply the Graph API refused with 500s, and sends it once", async () => {
    const from = customer();
    graph.failNext(4, 503);
    await postWhatsApp(url, whatsappEvent(org.phoneNumberId, [textMessage("hello", from)]));
    // The policy retries once in the request; the rest is the outbox's backoff, which the sweep runs.
    // Wait for the first failure to be recorded, then make the row due and sweep until it is sent.
    const rowOf = async () => (await db.sql`
      select o.status, o.attempts from public.outbox o join public.conversations c on c.id = o.conversation_id
      where c.external_id = ${`${org.phoneNumberId}:${from}`}`)[0];
    await expect.poll(async () => (await rowOf())?.attempts ?? 0, { timeout: 8000 }).toBeGreaterThanOrEqual(1);
    const started = Date.now();
    while ((await rowOf()).status !== "sent" && Date.now() - started < 20_000) {
      await db.sql`update public.outbox set next_attempt_at = now() where status = 'pending'`;
      await webChat(`${server.url}/functions/v1`).sweep(SERVICE_KEY);
      await new Promise((r) => setTimeout(r, 100));
    }
    const sent = await sentTo(`+${from}`, 1);
    expect(sent).toHaveLength(1);
    const [row] = await db.sql`
      select o.status, o.attempts from public.outbox o join public.conversations c on c.id = o.conversation_id
      where c.external_id = ${`${org.phoneNumberId}:${from}`}`;
    expect(row.status).toBe("sent");
    expect(row.attempts).toBeGreaterThanOrEqual(2);
  });

  it("accepts events for an unknown number with 200 (Meta would retry for a week) and says so", async () => {
    const res = await postWhatsApp(url, whatsappEvent("999999999999", [textMessage("hi")]));
    expect(res.status).toBe(200);
    expect(res.json.unknown_phone_number_ids).toEqual(["999999999999"]);
  });
});
