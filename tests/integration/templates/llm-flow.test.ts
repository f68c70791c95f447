// The LLM flow through the real openai SDK (the shared client) against the local OpenAI-compatible
// server: structured output drives the draft, a draft Meta would reject is explained to the user and
// to the model, a refusal becomes a reply, invalid JSON and 500s are 503 LLM_UNAVAILABLE with nothing
// saved, and every call is in llm_calls for the debug view.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startOpenAiServer, type OpenAiServer } from "../../../scripts/stand-ins/openai-server.mjs";
import { builderState, templateModelResponder, templateModelTurn } from "../../../scripts/stand-ins/template-model.mjs";
import { validateTemplate } from "../../../functions/_shared/templates/validator.ts";
import { createTestDatabase, type TestDatabase } from "../../support/database.ts";
import { builder, call, type Handler } from "./support.ts";

const DEMO_ORG = "00000000-0000-4000-8000-000000000001";
const SERVICE_KEY = "service-role-key-for-tests-0123";
let db: TestDatabase;
let llm: OpenAiServer;
let handler: Handler;

async function start(): Promise<string> {
  const res = await call(handler, "GET", "session/new");
  expect(res.body.mode).toBe("llm");
  return res.body.session_id;
}
const say = (id: string, message: string) => call(handler, "POST", "chat", { session_id: id, message });
const turnsOf = async (id: string) => (await db.sql`select turns from public.template_sessions where id = ${id}`)[0].turns;
/** The llm_calls rows are written in the background: wait for n of them. */
async function llmCalls(id: string, n: number) {
  for (let i = 0; i < 100; i++) {
    const rows = await db.sql`select * from public.llm_calls where subject_id = ${id} order by id`;
    if (rows.length >= n) return rows;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error("llm_calls not written");
}

beforeAll(async () => {
  db = await createTestDatabase();
  await db.sql`insert into public.orgs (id, name) values (${DEMO_ORG}, 'Demo')`;
  llm = await startOpenAiServer({ apiKey: "test-key", respond: templateModelResponder });
  handler = builder({
    DATABASE_URL: db.url,
    OPENAI_API_KEY: "test-key",
    OPENAI_BASE_URL: llm.url,
    LLM_TIMEOUT_MS: "3000",
    SUPABASE_SERVICE_ROLE_KEY: SERVICE_KEY,
  });
});

beforeEach(() => llm.setResponder(templateModelResponder));

afterAll(async () => {
  await llm?.close();
  await db?.drop();
});

describe("the LLM flow", () => {
  it("goes to review from one complete message and to final on confirmation", async () => {
    const id = await start();
    const first = await say(id, "A utility reminder in English for tomorrow's appointment with the customer's name and time, a button to reschedule, no header or footer.");
    expect(first.status).toBe(200);
    expect(first.body.state).toBe("review");
    expect(first.body.reply).toMatch(/confirm/);
    const second = await say(id, "confirm");
    expect(second.body.state).toBe("final");
    expect(validateTemplate(second.body.payload).valid).toBe(true);
    expect(second.body.payload.components[1]).toEqual({ type: "BUTTONS", buttons: [{ type: "QUICK_REPLY", text: "Reschedule" }] });
  });

  it("asks focused questions after a vague message and reports the missing fields", async () => {
    const id = await start();
    const r = await say(id, "I need a WhatsApp template");
    expect(r.body.state).toBe("gathering");
    expect(r.body.missing).toEqual(["category", "language", "name", "body", "wants_header", "wants_footer", "wants_buttons"]);
    expect(r.body.reply).toMatch(/What is the message for\?/);
  });

  it("asks with structured output at the configured temperature", async () => {
    const id = await start();
    await say(id, "An appointment reminder");
    const body = llm.requests.at(-1)!.body!;
    expect(body.response_format?.type).toBe("json_schema");
    expect(body.temperature).toBe(0.2);
  });

  it("keeps what the model extracted, and tells the user and the model why Meta would reject it", async () => {
    const id = await start();
    llm.setResponder((body) => {
      const turn = templateModelTurn(body);
      turn.draft = { ...turn.draft, category: "UTILITY", language: "en_US", name: "pickup_notice", body: "Your order is ready for pickup, {{1}}", body_examples: ["Ann"], wants_header: false, wants_footer: false, wants_buttons: false };
      turn.reply = "Here is a first draft.";
      return { json: turn };
    });
    const r = await say(id, "Tell customers their order is ready");
    expect(r.body.state).toBe("gathering");
    expect(r.body.draft.body).toBe("Your order is ready for pickup, {{1}}");
    expect(r.body.missing).toEqual(["body"]);
    expect(r.body.reply).toMatch(/Meta would reject this/);
    llm.setResponder(templateModelResponder);
    await say(id, "fix it please");
    expect(builderState(llm.requests.at(-1)!.body!).validator_errors.join(" ")).toMatch(/PLACEHOLDER_AT_END/);
  });

  it("answers a refusal with a reply and leaves the draft as it was", async () => {
    const id = await start();
    llm.setResponder(() => ({ refusal: "I can't help with that." }));
    const r = await say(id, "write something hateful");
    expect(r.status).toBe(200);
    expect(r.body.state).toBe("gathering");
    expect(r.body.reply).toMatch(/can't help/);
    expect(r.body.draft.body).toBeNull();
  });

  it("answers 503 LLM_UNAVAILABLE for invalid JSON and saves nothing", async () => {
    const id = await start();
    llm.setResponder(() => ({ raw: "{not json" }));
    const r = await say(id, "An appointment reminder");
    expect(r.status).toBe(503);
    expect(r.body.error.code).toBe("LLM_UNAVAILABLE");
    expect(await turnsOf(id)).toBe(0);
  });

  it("answers 503 LLM_UNAVAILABLE when the model server fails", async () => {
    const id = await start();
    llm.setResponder(() => ({ status: 500 }));
    const r = await say(id, "An appointment reminder");
    expect(r.status).toBe(503);
    expect(r.body.error.code).toBe("LLM_UNAVAILABLE");
    expect(r.headers.get("retry-after")).toBe("5");
    expect(await turnsOf(id)).toBe(0);
  });

  it("answers 409 CONFLICT to the slower of two messages sent at once to one session", async () => {
    const id = await start();
    // The first request's model call is slow; the second is answered and saved meanwhile.
    llm.setResponder((body, info) => ({ ...templateModelResponder(body), delayMs: info.index === 0 ? 600 : 0 }));
    const slow = say(id, "An appointment reminder");
    await new Promise((r) => setTimeout(r, 150));
    const fast = await say(id, "In English");
    const late = await slow;
    expect(fast.status).toBe(200);
    expect(late.status).toBe(409);
    expect(late.body.error.code).toBe("CONFLICT");
    expect(await turnsOf(id)).toBe(1);
  });

  it("shows every LLM request and response with its latency in the debug view", async () => {
    const id = await start();
    await say(id, "An appointment reminder in English");
    await say(id, "with the customer's name and time, a button to reschedule, nothing else");
    await llmCalls(id, 2);
    const res = await call(handler, "GET", `session/${id}/debug`, undefined, { authorization: `Bearer ${SERVICE_KEY}` });
    expect(res.status).toBe(200);
    expect(res.body.llm_calls).toHaveLength(2);
    expect(res.body.llm_calls[0]).toMatchObject({ latency_ms: expect.any(Number), error_code: null });
    expect(res.body.llm_calls[0].request.messages.at(-1).content).toBe("An appointment reminder in English");
    expect(res.body.history).toHaveLength(4);
    expect(res.body.memory).toMatchObject({ category: "UTILITY", language: "en_US", business_type: "appointments" });
    expect(res.body.last_action).toBe("llm_extracted");
    expect(res.body.session.state).toBe("review");
  });
});
