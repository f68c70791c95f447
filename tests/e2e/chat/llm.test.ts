// The chat bot with an LLM: the real openai SDK (streaming, tool calls) in real Deno, against a local
// OpenAI-compatible server, on a real Postgres. Each action through the LLM's tools; failures (429,
// 500, a hang past the turn's deadline) answered by the rule-based brain in the same turn; every
// call recorded.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type OpenAiServer, startOpenAiServer } from "../../../scripts/stand-ins/openai-server.mjs";
import { createTestDatabase, type TestDatabase } from "../../support/database.ts";
import { type ChatOrg, createChatOrg, SERVICE_KEY, webChat } from "../../support/chat.ts";
import { type FunctionsServer, startFunctionsServer } from "../support/server.ts";

let db: TestDatabase;
let server: FunctionsServer;
let llm: OpenAiServer;
let org: ChatOrg;
let chat: ReturnType<typeof webChat>;
const KEY = "sk-test-0123456789";
const DEADLINE_MS = 1500;

beforeAll(async () => {
  db = await createTestDatabase();
  llm = await startOpenAiServer({ apiKey: KEY });
  org = await createChatOrg(db.sql);
  server = await startFunctionsServer({
    env: {
      DATABASE_URL: db.url,
      SUPABASE_SERVICE_ROLE_KEY: SERVICE_KEY,
      RATE_LIMIT_STORE: "memory",
      OPENAI_API_KEY: KEY,
      OPENAI_BASE_URL: llm.url,
      OPENAI_MODEL: "test-model",
      LLM_TIMEOUT_MS: String(DEADLINE_MS),
      CHAT_TURN_DEADLINE_MS: "3000",
    },
  });
  chat = webChat(`${server.url}/functions/v1`);
}, 60_000);

afterAll(async () => {
  await server?.stop();
  await llm?.close();
  await db?.drop();
});

beforeEach(() => llm.setResponder(() => ({ text: "Happy to help!" })));

async function session() {
  const res = await chat.start({ site_key: org.siteKey, customer: { name: "Jane" }, timezone: "America/Toronto" });
  return res.json as { session_id: string; session_token: string };
}

async function llmCalls(sessionId: string) {
  return await db.sql`
    select l.error_code, l.model, l.latency_ms, l.streamed, l.tool_calls, l.purpose
    from public.llm_calls l join public.conversations c on c.id = l.conversation_id
    where c.external_id = ${sessionId} order by l.id`;
}

describe("answers", () => {
  it("answers with the model's text, gives it the organisation's facts, and records the call", async () => {
    llm.setResponder(() => ({ text: "Yes, we cover Toronto and the GTA.", chunkDelayMs: 5 }));
    const s = await session();
    const res = await chat.send(s.session_id, s.session_token, { text: "Do you cover my area?" });
    expect(res.json.messages[0].body).toBe("Yes, we cover Toronto and the GTA.");
    const request = llm.requests.at(-1)!.body!;
    expect(request.stream).toBe(true);
    expect(request.tools.map((t: any) => t.function.name)).toEqual(["request_human", "schedule_callback", "close_conversation"]);
    expect(request.messages[0].content).toContain("Toronto and the GTA");
    expect(request.messages.at(-1)).toEqual({ role: "user", content: "Do you cover my area?" });
    await expect.poll(async () => (await llmCalls(s.session_id)).length, { timeout: 3000 }).toBe(1);
    const [call] = await llmCalls(s.session_id);
    expect(call).toMatchObject({ error_code: null, model: "test-model", purpose: "chat", streamed: true });
  });
});

describe("actions through the model's tools", () => {
  it("hands over when the model calls request_human", async () => {
    llm.setResponder(() => ({ toolCalls: [{ name: "request_human", arguments: { reason: "wants a person", summary: "Jane needs help with a leak" } }] }));
    const s = await session();
    const res = await chat.send(s.session_id, s.session_token, { text: "can you get me a real person" });
    expect(res.json.actions[0]).toMatchObject({ type: "handoff_requested", changed: true, summary: "Jane needs help with a leak" });
    const [a] = await db.sql`select a.source from public.conversation_actions a join public.conversations c on c.id = a.conversation_id where c.external_id = ${s.session_id}`;
    expect(a.source).toBe("llm");
  });

  it("books a callback from schedule_callback, reading the time in the customer's zone, and asks for what is missing", async () => {
    llm.setResponder(() => ({
      toolCalls: [{ name: "schedule_callback", arguments: { when: "tomorrow at 3pm", phone: null, issue_summary: "no heat in the house" } }],
    }));
    const s = await session();
    const ask = await chat.send(s.session_id, s.session_token, { text: "I have no heat, can someone call me tomorrow at 3pm?" });
    expect(ask.json.actions).toEqual([]);
    expect(ask.json.messages[0].body).toMatch(/Which phone number/);
    const before = llm.requests.length;
    const done = await chat.send(s.session_id, s.session_token, { text: "416 555 0199" });
    // The callback flow finishes it; the model is not asked again.
    expect(llm.requests.length).toBe(before);
    expect(done.json.actions[0]).toMatchObject({ type: "callback_scheduled", phone: "+14165550199", subject: "Callback: no heat in the house" });
    expect(done.json.actions[0].scheduled_for).toMatch(/T15:00:00-05:00$/);
  });

  it("streams tool-call arguments split over chunks", async () => {
    llm.setResponder(() => ({ toolCalls: [{ name: "close_conversation", arguments: { reason: "customer says the furnace works again" } }], chunkDelayMs: 2 }));
    const s = await session();
    const res = await chat.send(s.session_id, s.session_token, { text: "all working again, cheers" });
    expect(res.json.actions[0]).toMatchObject({ type: "conversation_closed", changed: true });
    expect(res.json.conversation.status).toBe("resolved");
  });

  it("makes one callback when the model and the button both ask for it", async () => {
    llm.setResponder(() => ({ toolCalls: [{ name: "schedule_callback", arguments: { when: "tomorrow at 4pm", phone: "4165550199", issue_summary: "leaking tap" } }] }));
    const s = await session();
    const first = await chat.send(s.session_id, s.session_token, { text: "call me back tomorrow at 4pm on 416 555 0199 about my leaking tap" });
    expect(first.json.actions[0]).toMatchObject({ type: "callback_scheduled", changed: true });
    await chat.send(s.session_id, s.session_token, { button: "SCHEDULE_CALLBACK" });
    const again = await chat.send(s.session_id, s.session_token, { text: "tomorrow at 5pm, 416 555 0199" });
    expect(again.json.actions[0]).toMatchObject({ type: "callback_scheduled", changed: false, id: first.json.actions[0].id });
    const [{ n }] = await db.sql`select count(*)::int as n from public.callbacks cb join public.conversations c on c.id = cb.conversation_id where c.external_id = ${s.session_id}`;
    expect(n).toBe(1);
  });
});

describe("when the model fails, the rules answer the same turn", () => {
  it.each([
    ["a 429", { status: 429, body: { error: { message: "Rate limit reached", type: "requests", code: "rate_limit_exceeded" } } }, "rate_limited"],
    ["a 500", { status: 500, body: { error: { message: "boom" } } }, "server_error"],
    ["a hang past the deadline", { hang: true }, "timeout"],
  ])("on %s", async (_what, reply, code) => {
    llm.setResponder(() => reply as never);
    const s = await session();
    const started = Date.now();
    const res = await chat.send(s.session_id, s.session_token, { text: "I want to talk to a person" });
    expect(res.status).toBe(200);
    expect(Date.now() - started).toBeLessThan(DEADLINE_MS + 2000);
    expect(res.json.actions[0]).toMatchObject({ type: "handoff_requested", changed: true });
    const debug = await chat.debug(s.session_id, SERVICE_KEY);
    const reply0 = debug.json.messages.find((m: any) => m.sender_type === "bot" && m.metadata.reply_to);
    expect(reply0.metadata).toMatchObject({ decided_by: "rules", fallback_reason: code });
    await expect.poll(async () => (await llmCalls(s.session_id)).map((c) => c.error_code), { timeout: 3000 }).toContain(code);
  });
});
