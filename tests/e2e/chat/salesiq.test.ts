// The SalesIQ channel under real Deno, over HTTP, with a real Postgres and the local Zoho stand-in
// (accounts, SalesIQ, Desk). The rule-based brain answers unless a test points OPENAI_* at the
// local OpenAI-compatible server (second suite).
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { generateKeyPairSync, sign } from "node:crypto";
import { startZohoStandIn, type ZohoStandIn } from "../../../scripts/stand-ins/zoho.mjs";
import { type OpenAiServer, startOpenAiServer } from "../../../scripts/stand-ins/openai-server.mjs";
import { createTestDatabase, type TestDatabase } from "../../support/database.ts";
import { createChatOrg, SERVICE_KEY, webChat } from "../../support/chat.ts";
import { DESK_DEPARTMENT, DESK_ORG, enableZoho, newConversationId, SALESIQ_DEPARTMENT, salesiqMessage, SCREEN, zohoEnv } from "../../support/zoho.ts";
import { type FunctionsServer, startFunctionsServer } from "../support/server.ts";

let db: TestDatabase;
let zoho: ZohoStandIn;

async function post(server: FunctionsServer, key: string, body: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(`${server.functionUrl("salesiq-webhook")}/${key}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let json: any = null;
  try {
    json = JSON.parse(text);
  } catch {
    json = text;
  }
  return { status: res.status, json };
}

async function until<T>(what: string, fn: () => T | Promise<T>, timeoutMs = 10_000): Promise<NonNullable<T>> {
  const started = Date.now();
  for (;;) {
    const v = await fn();
    if (v) return v as NonNullable<T>;
    if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function conversation(externalId: string) {
  const [row] = await db.sql`select id, status, channel from public.conversations where channel = 'salesiq' and external_id = ${externalId}`;
  return row;
}

beforeAll(async () => {
  db = await createTestDatabase();
  zoho = await startZohoStandIn({ deskOrgId: DESK_ORG });
}, 60_000);

afterAll(async () => {
  await zoho?.close();
  await db?.drop();
});

describe("SalesIQ with the rule-based brain", () => {
  let server: FunctionsServer;
  let key: string;
  let orgId: string;

  beforeAll(async () => {
    ({ orgId } = await createChatOrg(db.sql));
    key = await enableZoho(db.sql, orgId);
    server = await startFunctionsServer({
      // A short HTTP timeout: the lost-answer test waits for it.
      env: { DATABASE_URL: db.url, SUPABASE_SERVICE_ROLE_KEY: SERVICE_KEY, RATE_LIMIT_STORE: "memory", ...zohoEnv(zoho, { ZOHO_HTTP_TIMEOUT_MS: "1000" }) },
    });
  }, 60_000);
  afterAll(async () => {
    await server?.stop();
  });
  beforeEach(() => {
    zoho.reset();
    zohoEnv(zoho);
  });

  it("answers SalesIQ's save check (HEAD and GET) with 200 and an unknown key with 404", async () => {
    const url = `${server.functionUrl("salesiq-webhook")}/${key}`;
    expect((await fetch(url, { method: "HEAD" })).status).toBe(200);
    expect((await fetch(url)).status).toBe(200);
    const unknown = await post(server, "no-such-key-123", salesiqMessage("1", "hi"));
    expect(unknown.status).toBe(404);
    expect(unknown.json.error.code).toBe("NOT_FOUND");
  });

  it("greets on the trigger handler with the buttons as suggestions", async () => {
    const res = await post(server, key, { handler: "trigger", org_id: "60012345", visitor: { name: "Jane" }, request: { id: "t1" } });
    expect(res.status).toBe(200);
    expect(res.json.action).toBe("reply");
    expect(res.json.replies[0]).toContain("Jane");
    expect(res.json.suggestions).toEqual(["Talk to a person", "Schedule a callback"]);
  });

  it("refuses a request that is not a Zobot event with 422 INVALID_EVENT", async () => {
    const res = await post(server, key, { handler: "bogus" });
    expect(res.status).toBe(422);
    expect(res.json.error.code).toBe("INVALID_EVENT");
    const bad = await post(server, key, "{not json");
    expect(bad.status).toBe(400);
  });

  it("books a callback by button, files it in Desk once with the time in UTC, and answers inline", async () => {
    const conv = newConversationId();
    let res = await post(server, key, salesiqMessage(conv, "My furnace is making a banging noise"));
    expect(res.json.action).toBe("reply");
    res = await post(server, key, salesiqMessage(conv, "Schedule a callback"));
    expect(res.json.action).toBe("reply");
    res = await post(server, key, salesiqMessage(conv, "tomorrow at 2pm on 416-555-0199"));
    expect(res.status).toBe(200);
    expect(res.json.action).toBe("reply");
    expect(res.json.replies.join(" ")).toMatch(/\+1 ?416/);
    const call = await until("the Desk call", () => zoho.state.calls[0]);
    const [cb] = await db.sql`select cb.* from public.callbacks cb join public.conversations c on c.id = cb.conversation_id where c.external_id = ${conv}`;
    expect(call).toMatchObject({ departmentId: DESK_DEPARTMENT, direction: "outbound", startTime: new Date(cb.scheduled_for).toISOString() });
    expect(call.subject).toMatch(/^Callback: .*furnace/i);
    expect(call.description).toContain("My furnace is making a banging noise");
    expect(zoho.state.contacts).toHaveLength(1);
    expect(zoho.state.contacts[0]).toMatchObject({ lastName: "Cooper", firstName: "Jane", phone: "+14165550199" });
    await until("the callback's Desk id", async () => (await db.sql`select provider_ref from public.callbacks where id = ${cb.id}`)[0].provider_ref);
    const [after] = await db.sql`select provider, provider_ref, provider_status from public.callbacks where id = ${cb.id}`;
    expect(after).toMatchObject({ provider: "zoho_desk", provider_ref: call.id, provider_status: "created" });
    // No reply went through the callbacks API: they were all in the HTTP answers.
    expect(zoho.state.salesiq.filter((e) => e.kind === "response")).toHaveLength(0);
  });

  it("books a callback from one sentence with the rules, reusing an existing Desk contact", async () => {
    zoho.state.contacts.push({ id: "555000000000", lastName: "Existing", phone: "+14165550188" });
    const conv = newConversationId();
    const res = await post(server, key, salesiqMessage(conv, "I want a callback tomorrow at 2pm, my number is 416 555 0188"));
    expect(res.json.action).toBe("reply");
    const call = await until("the Desk call", () => zoho.state.calls[0]);
    expect(call.contactId).toBe("555000000000");
    expect(zoho.state.contacts).toHaveLength(1);
  });

  it("forwards to the configured department on a hand-over request", async () => {
    const conv = newConversationId();
    const res = await post(server, key, salesiqMessage(conv, "I need to talk to a person"));
    expect(res.json).toMatchObject({ action: "forward", department: SALESIQ_DEPARTMENT });
    expect((await conversation(conv)).status).toBe("queued");
  });

  it("forwards when the visitor taps the hand-over suggestion", async () => {
    const conv = newConversationId();
    await post(server, key, salesiqMessage(conv, "hello"));
    const res = await post(server, key, salesiqMessage(conv, "Talk to a person"));
    expect(res.json.action).toBe("forward");
  });

  it("closes the chat in SalesIQ when the visitor says it is resolved", async () => {
    const conv = newConversationId();
    await post(server, key, salesiqMessage(conv, "The heating stopped"));
    const res = await post(server, key, salesiqMessage(conv, "that fixed it, thanks"));
    expect(res.json.action).toBe("reply");
    expect((await conversation(conv)).status).toBe("resolved");
    const close = await until("the close call", () => zoho.state.salesiq.find((e) => e.kind === "close" && e.id === conv));
    expect(close.screen).toBe(SCREEN);
  });

  it("answers a replayed request with the same reply and stores it once", async () => {
    const conv = newConversationId();
    const body = salesiqMessage(conv, "hello there", { requestId: `replay-${conv}` });
    const first = await post(server, key, body);
    const second = await post(server, key, body);
    expect(second.json).toEqual(first.json);
    const [{ n }] = await db.sql`select count(*)::int as n from public.messages m join public.conversations c on c.id = m.conversation_id
                                 where c.external_id = ${conv} and m.sender_type = 'customer'`;
    expect(n).toBe(1);
  });

  it("makes one Desk call when the token expires in the middle of the callback", async () => {
    const conv = newConversationId();
    // Contact search works with the current token, then every token expires before the call is created.
    let expired = false;
    const contacts = zoho.state.contacts;
    const push = contacts.push.bind(contacts);
    contacts.push = (...items: any[]) => {
      const n = push(...items);
      if (!expired) {
        expired = true;
        zoho.expireAll();
      }
      return n;
    };
    try {
      await post(server, key, salesiqMessage(conv, "I want a callback tomorrow at 10am on 416 555 0177"));
      const call = await until("the Desk call", () => zoho.state.calls[0]);
      expect(call.contactId).toBe(zoho.state.contacts[0].id);
    } finally {
      contacts.push = push;
    }
    await new Promise((r) => setTimeout(r, 300));
    expect(zoho.state.calls).toHaveLength(1);
    expect(zoho.state.refreshes.length).toBeGreaterThanOrEqual(1);
  });

  it("makes one Desk call when the answer to the creation was lost and the sweep retries", async () => {
    zoho.dropNextCallAnswer();
    const conv = newConversationId();
    await post(server, key, salesiqMessage(conv, "please call me back tomorrow at 11am on 416 555 0166"));
    await until("the first creation", () => zoho.state.calls[0]);
    const row = await until("the outbox row back to pending", async () =>
      (await db.sql`select o.id, o.status from public.outbox o join public.conversations c on c.id = o.conversation_id
                    where c.external_id = ${conv} and o.kind = 'desk_call' and o.status = 'pending' and o.attempts >= 1`)[0], 15_000);
    await db.sql`update public.outbox set next_attempt_at = now() where id = ${row.id}`;
    const sweep = await webChat(`${server.url}/functions/v1`).sweep(SERVICE_KEY);
    expect(sweep.status).toBe(200);
    const [done] = await db.sql`select status, provider_message_id from public.outbox where id = ${row.id}`;
    expect(done.status).toBe("sent");
    expect(zoho.state.calls).toHaveLength(1);
    expect(done.provider_message_id).toBe(`desk-call:${zoho.state.calls[0].id}`);
  });

  it("retries a Desk 429 later without a second call", async () => {
    zoho.failNext(/\/api\/v1\/calls$/, 429, 1);
    const conv = newConversationId();
    await post(server, key, salesiqMessage(conv, "call me back tomorrow at 9am on 416 555 0155"));
    const row = await until("the outbox row to retry", async () =>
      (await db.sql`select o.id from public.outbox o join public.conversations c on c.id = o.conversation_id
                    where c.external_id = ${conv} and o.kind = 'desk_call' and o.status = 'pending' and o.attempts >= 1`)[0], 15_000);
    expect(zoho.state.calls).toHaveLength(0);
    await db.sql`update public.outbox set next_attempt_at = now() where id = ${row.id}`;
    await webChat(`${server.url}/functions/v1`).sweep(SERVICE_KEY);
    expect(zoho.state.calls).toHaveLength(1);
  });
});

describe("SalesIQ signatures", () => {
  let server: FunctionsServer;
  let key: string;
  const { publicKey, privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const pem = publicKey.export({ type: "spki", format: "pem" }).toString();

  beforeAll(async () => {
    const { orgId } = await createChatOrg(db.sql);
    key = await enableZoho(db.sql, orgId, { publicKey: pem, salesiqOrgId: "60012345" });
    server = await startFunctionsServer({ env: { DATABASE_URL: db.url, RATE_LIMIT_STORE: "memory", ...zohoEnv(zoho) } });
  }, 60_000);
  afterAll(async () => {
    await server?.stop();
  });

  it("accepts a request signed with the configured key and refuses unsigned or forged ones", async () => {
    const body = JSON.stringify(salesiqMessage(newConversationId(), "hello"));
    const signature = sign("sha256", Buffer.from(body), privateKey).toString("base64");
    expect((await post(server, key, body, { "x-siqsignature": signature })).status).toBe(200);
    const unsigned = await post(server, key, body);
    expect(unsigned.status).toBe(401);
    expect(unsigned.json.error.code).toBe("SIGNATURE_MISSING");
    const forged = await post(server, key, body.replace("hello", "hullo"), { "x-siqsignature": signature });
    expect(forged.json.error.code).toBe("SIGNATURE_INVALID");
  });

  it("refuses another SalesIQ organisation's request with 403", async () => {
    const body = JSON.stringify({ ...salesiqMessage(newConversationId(), "hello"), org_id: "999" });
    const signature = sign("sha256", Buffer.from(body), privateKey).toString("base64");
    const res = await post(server, key, body, { "x-siqsignature": signature });
    expect(res.status).toBe(403);
    expect(res.json.error.code).toBe("FORBIDDEN");
  });
});

describe("SalesIQ with an LLM", () => {
  let server: FunctionsServer;
  let llm: OpenAiServer;
  let key: string;
  const KEY = "sk-test-0123456789";

  beforeAll(async () => {
    const { orgId } = await createChatOrg(db.sql);
    key = await enableZoho(db.sql, orgId);
    llm = await startOpenAiServer({ apiKey: KEY });
    server = await startFunctionsServer({
      env: {
        DATABASE_URL: db.url, RATE_LIMIT_STORE: "memory", SUPABASE_SERVICE_ROLE_KEY: SERVICE_KEY,
        OPENAI_API_KEY: KEY, OPENAI_BASE_URL: llm.url, OPENAI_MODEL: "test-model",
        LLM_TIMEOUT_MS: "8000", CHAT_TURN_DEADLINE_MS: "10000",
        ...zohoEnv(zoho, { SALESIQ_REPLY_BUDGET_MS: "1500" }),
      },
    });
  }, 60_000);
  afterAll(async () => {
    await server?.stop();
    await llm?.close();
  });
  beforeEach(() => {
    zoho.reset();
    zohoEnv(zoho);
  });

  it("answers 'pending' when the LLM is slower than the budget, then delivers the reply through the callbacks API", async () => {
    llm.setResponder(() => ({ text: "We service furnaces of every make.", delayMs: 2500 }));
    const conv = newConversationId();
    const body = salesiqMessage(conv, "Do you repair Lennox furnaces?", { requestId: `slow-${conv}` });
    const started = Date.now();
    const res = await post(server, key, body);
    expect(Date.now() - started).toBeLessThan(4500);
    expect(res.json.action).toBe("pending");
    const delivered = await until("the callback response", () => zoho.state.salesiq.find((e) => e.kind === "response" && e.id === `slow-${conv}`));
    expect(delivered.body).toMatchObject({ action: "reply", replies: ["We service furnaces of every make."] });
    // A replay of the same request while or after it is answered stores nothing new.
    const again = await post(server, key, body);
    expect(again.json.action).toBe("pending");
    await new Promise((r) => setTimeout(r, 300));
    expect(zoho.state.salesiq.filter((e) => e.kind === "response")).toHaveLength(1);
  });

  it("answers inline when the LLM is quick", async () => {
    llm.setResponder(() => ({ text: "Yes, we do." }));
    const res = await post(server, key, salesiqMessage(newConversationId(), "Do you do boilers?"));
    expect(res.json).toMatchObject({ action: "reply", replies: ["Yes, we do."] });
  });

  it("forwards when the LLM asks for a person", async () => {
    llm.setResponder(() => ({ toolCalls: [{ name: "request_human", arguments: { reason: "asked", summary: "wants a person" } }] }));
    const res = await post(server, key, salesiqMessage(newConversationId(), "get me someone"));
    expect(res.json).toMatchObject({ action: "forward", department: SALESIQ_DEPARTMENT });
  });

  it("files a callback in Desk when the LLM schedules one", async () => {
    llm.setResponder(() => ({
      toolCalls: [{ name: "schedule_callback", arguments: { when: "tomorrow at 3pm", phone: "416 555 0144", issue_summary: "Water heater leaking" } }],
    }));
    const res = await post(server, key, salesiqMessage(newConversationId(), "can you call me tomorrow at 3pm on 416 555 0144? my water heater leaks"));
    expect(res.json.action).toBe("reply");
    const call = await until("the Desk call", () => zoho.state.calls[0]);
    expect(call.subject).toBe("Callback: Water heater leaking");
  });

  it("closes the chat in SalesIQ when the LLM closes the conversation", async () => {
    llm.setResponder(() => ({ toolCalls: [{ name: "close_conversation", arguments: { reason: "resolved" } }] }));
    const conv = newConversationId();
    await post(server, key, salesiqMessage(conv, "all sorted now, bye"));
    await until("the close call", () => zoho.state.salesiq.find((e) => e.kind === "close" && e.id === conv));
  });
});
