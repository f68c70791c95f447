// Every call through the client lands in llm_calls on a real Postgres, after the answer: successes
// and failures, streamed and not, with request, response, tool calls, tokens and error code.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { z } from "zod";
import { createLlmClient, type LlmClient } from "../../../functions/_shared/llm/client.ts";
import { createLlmCallRecorder, truncateJson } from "../../../functions/_shared/llm/recorder.ts";
import { createLogger } from "../../../functions/_shared/log/logger.ts";
import { resetBreakers } from "../../../functions/_shared/resilience/breakers.ts";
import { settleBackground } from "../../../functions/_shared/runtime/background.ts";
import { type OpenAiServer, startOpenAiServer } from "../../../scripts/stand-ins/openai-server.mjs";
import { createTestDatabase, type TestDatabase } from "../../support/database.ts";

let db: TestDatabase;
let server: OpenAiServer;
let llm: LlmClient;
let orgId: string;
let otherOrgId: string;
let conversationId: string;
let otherConversationId: string;
const logLines: string[] = [];

beforeAll(async () => {
  db = await createTestDatabase();
  server = await startOpenAiServer({ apiKey: "sk-secret-recorder" });
  [{ id: orgId }, { id: otherOrgId }] = await db.sql`insert into public.orgs (name) values ('A'), ('B') returning id`;
  [{ id: conversationId }] = await db.sql`insert into public.conversations (org_id, channel, external_id) values (${orgId}, 'web', 'w-1') returning id`;
  [{ id: otherConversationId }] = await db.sql`insert into public.conversations (org_id, channel, external_id) values (${otherOrgId}, 'web', 'w-2') returning id`;
  const logger = createLogger({}, { sink: (line) => logLines.push(line) });
  llm = createLlmClient(
    { apiKey: "sk-secret-recorder", baseUrl: server.url, model: "gpt-4o-mini", timeoutMs: 3000, temperature: 0.2 },
    { recorder: createLlmCallRecorder(db.sql, logger), logger, maxAttempts: 1 },
  );
});
afterAll(async () => {
  await server.close();
  await db.drop();
});
beforeEach(async () => {
  resetBreakers();
  await db.sql`delete from public.llm_calls`;
});

const rows = () => db.sql`select * from public.llm_calls order by id`;

describe("recording", () => {
  it("records a streamed tool call with request, response, tokens and latency", async () => {
    server.setResponder(() => ({ toolCalls: [{ name: "request_human", arguments: { reason: "asked" } }], usage: { prompt_tokens: 40, completion_tokens: 9 } }));
    const tools = [{ type: "function" as const, function: { name: "request_human", parameters: { type: "object", properties: {} } } }];
    await llm.complete(
      { messages: [{ role: "system", content: "You are Nova." }, { role: "user", content: "a person please" }], tools, stream: true },
      { record: { orgId, conversationId, purpose: "chat" } },
    );
    await settleBackground();
    const [row] = await rows();
    expect(row).toMatchObject({
      org_id: orgId,
      conversation_id: conversationId,
      purpose: "chat",
      subject_id: null,
      model: "gpt-4o-mini",
      prompt_tokens: 40,
      completion_tokens: 9,
      streamed: true,
      error_code: null,
      error_message: null,
    });
    expect(row.latency_ms).toBeGreaterThanOrEqual(0);
    expect(row.request.messages).toEqual([{ role: "system", content: "You are Nova." }, { role: "user", content: "a person please" }]);
    expect(row.request.tools).toEqual(tools);
    expect(row.request.params).toMatchObject({ model: "gpt-4o-mini", temperature: 0.2, stream: true });
    expect(row.tool_calls).toEqual([{ id: expect.stringMatching(/^call_/), name: "request_human", arguments: { reason: "asked" } }]);
    expect(row.response.finish_reason).toBe("tool_calls");
  });

  it("records a failure with its error code and no response", async () => {
    server.setResponder(() => ({ status: 429 }));
    await expect(llm.complete({ messages: [{ role: "user", content: "x" }] }, { record: { orgId, purpose: "chat" } }))
      .rejects.toMatchObject({ code: "rate_limited" });
    await settleBackground();
    const [row] = await rows();
    expect(row).toMatchObject({ error_code: "rate_limited", response: null, tool_calls: null, streamed: false });
    expect(row.error_message).toContain("429");
    expect(row.error_message).not.toContain("sk-secret");
    expect(JSON.stringify(row.request)).not.toContain("sk-secret");
  });

  it("records a structured call that came back invalid as bad_response, with what came back", async () => {
    server.setResponder(() => ({ raw: "not json" }));
    await expect(llm.structured(z.object({ a: z.string() }), { name: "draft", messages: [{ role: "user", content: "x" }] },
      { record: { orgId, purpose: "template", subjectId: "session-42" } })).rejects.toMatchObject({ code: "bad_response" });
    await settleBackground();
    const [row] = await rows();
    expect(row).toMatchObject({ purpose: "template", subject_id: "session-42", error_code: "bad_response" });
    expect(row.response.message.content).toBe("not json");
    expect(row.request.params.response_format.type).toBe("json_schema");
  });

  it("records embeddings without their vectors", async () => {
    await llm.embed({ input: ["a", "b"], dimensions: 8 }, { record: { orgId, purpose: "embedding" } });
    await settleBackground();
    const [row] = await rows();
    expect(row).toMatchObject({ purpose: "embedding", model: "text-embedding-3-small", error_code: null });
    expect(row.response).toMatchObject({ count: 2, dimensions: 8 });
  });

  it("writes many calls in few statements and drops only the rows it cannot store", async () => {
    server.setResponder(() => ({ text: "ok" }));
    await Promise.all([
      ...Array.from({ length: 20 }, () => llm.complete({ messages: [{ role: "user", content: "x" }] }, { record: { orgId, purpose: "chat" } })),
      // an organisation that does not exist: dropped, the batch still written
      llm.complete({ messages: [{ role: "user", content: "x" }] }, { record: { orgId: "00000000-0000-4000-8000-000000000000", purpose: "chat" } }),
      // another organisation's conversation: stored unlinked
      llm.complete({ messages: [{ role: "user", content: "x" }] }, { record: { orgId, conversationId: otherConversationId, purpose: "chat" } }),
    ]);
    await settleBackground();
    const all = await rows();
    expect(all).toHaveLength(21);
    expect(all.every((r) => r.org_id === orgId && r.conversation_id === null)).toBe(true);
  });

  it("records nothing without a record context", async () => {
    server.setResponder(() => ({ text: "ok" }));
    await llm.complete({ messages: [{ role: "user", content: "x" }] });
    await settleBackground();
    expect(await rows()).toHaveLength(0);
  });

  it("truncates huge messages so a row stays small", async () => {
    server.setResponder(() => ({ text: "ok" }));
    const huge = "word ".repeat(50_000);
    await llm.complete({ messages: [{ role: "user", content: huge }] }, { record: { orgId, purpose: "chat" } });
    await settleBackground();
    const [row] = await rows();
    expect(JSON.stringify(row.request).length).toBeLessThan(70_000);
    expect(row.request.messages[0].content).toMatch(/more characters\]$/);
  });
});

describe("truncateJson", () => {
  it("cuts long strings, removes NULs and lone surrogates, and caps the whole", () => {
    expect(truncateJson({ a: "x".repeat(10) }, 4)).toEqual({ a: "xxxx…[6 more characters]" });
    expect(truncateJson({ a: "a\u0000b\uD800" })).toEqual({ a: "ab\uFFFD" });
    const capped = truncateJson(Array.from({ length: 100 }, () => "y".repeat(100)), 4000, 1000) as Record<string, unknown>;
    expect(capped).toMatchObject({ truncated: true });
    expect(String(capped.preview).length).toBe(1000);
  });
});
