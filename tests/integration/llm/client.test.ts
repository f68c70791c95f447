// The LLM client with the real openai SDK against the local OpenAI-compatible server over real HTTP:
// text, tool calls (plain and streamed), structured output and its failures, HTTP errors as LlmError
// codes, the deadline, the breaker, embeddings.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { z } from "zod";
import { createLlmClient, type LlmClientDeps, type LlmTool } from "../../../functions/_shared/llm/client.ts";
import { LlmError } from "../../../functions/_shared/llm/errors.ts";
import { llmSettingsFromEnv, type LlmSettings } from "../../../functions/_shared/llm/settings.ts";
import { ConfigError } from "../../../functions/_shared/config/env.ts";
import { resetBreakers } from "../../../functions/_shared/resilience/breakers.ts";
import { type OpenAiServer, standInEmbedding, startOpenAiServer } from "../../../scripts/stand-ins/openai-server.mjs";

const KEY = "sk-test-local";
let server: OpenAiServer;

function settings(overrides: Partial<LlmSettings> = {}): LlmSettings {
  return { apiKey: KEY, baseUrl: server.url, model: "gpt-4o-mini", timeoutMs: 5000, temperature: 0.2, ...overrides };
}
function client(deps: LlmClientDeps = {}, overrides: Partial<LlmSettings> = {}) {
  return createLlmClient(settings(overrides), deps);
}

/** The error a promise rejects with (fails the test if it resolves). */
async function failure(p: Promise<unknown>): Promise<LlmError> {
  try {
    await p;
  } catch (error) {
    expect(error).toBeInstanceOf(LlmError);
    return error as LlmError;
  }
  throw new Error("expected the call to fail");
}

const tools: LlmTool[] = [
  {
    type: "function",
    function: {
      name: "schedule_callback",
      description: "Schedule a callback",
      parameters: {
        type: "object",
        properties: { when: { type: "string" }, phone: { type: "string" }, issue_summary: { type: "string" } },
        required: ["when", "phone", "issue_summary"],
      },
    },
  },
  { type: "function", function: { name: "request_human", parameters: { type: "object", properties: {} } } },
];
const callbackArgs = { when: "tomorrow at 2pm", phone: "+14165550199", issue_summary: "Furnace makes a loud banging noise on startup" };

beforeAll(async () => {
  server = await startOpenAiServer({ apiKey: KEY });
});
afterAll(async () => {
  await server.close();
});
beforeEach(() => {
  resetBreakers();
  server.requests.length = 0;
  server.setResponder(undefined);
});

describe("settings", () => {
  it("returns null when OPENAI_API_KEY is unset or blank", () => {
    expect(llmSettingsFromEnv({})).toBeNull();
    expect(llmSettingsFromEnv({ OPENAI_API_KEY: "  " })).toBeNull();
  });
  it("fills in the defaults when only the key is set", () => {
    expect(llmSettingsFromEnv({ OPENAI_API_KEY: "ollama" })).toEqual({
      apiKey: "ollama", baseUrl: null, model: "gpt-4o-mini", timeoutMs: 8000, temperature: 0.2,
    });
  });
  it("reads every setting and drops a trailing slash from the base URL", () => {
    expect(llmSettingsFromEnv({
      OPENAI_API_KEY: "k", OPENAI_BASE_URL: "http://127.0.0.1:11434/v1/", OPENAI_MODEL: "llama3.1", LLM_TIMEOUT_MS: "2500", LLM_TEMPERATURE: "0",
    })).toEqual({ apiKey: "k", baseUrl: "http://127.0.0.1:11434/v1", model: "llama3.1", timeoutMs: 2500, temperature: 0 });
  });
  it("throws ConfigError on a malformed value, even without a key", () => {
    expect(() => llmSettingsFromEnv({ LLM_TIMEOUT_MS: "soon" })).toThrow(ConfigError);
    expect(() => llmSettingsFromEnv({ OPENAI_API_KEY: "k", LLM_TEMPERATURE: "3" })).toThrow(ConfigError);
    expect(() => llmSettingsFromEnv({ OPENAI_API_KEY: "k", OPENAI_BASE_URL: "ftp://x" })).toThrow(ConfigError);
  });
});

describe("complete", () => {
  it("returns the text, usage and model of a plain answer, sending the key, model and temperature", async () => {
    server.setResponder(() => ({ text: "We open at 8am.", usage: { prompt_tokens: 12, completion_tokens: 5 } }));
    const r = await client().complete({ messages: [{ role: "user", content: "When do you open?" }] });
    expect(r).toMatchObject({ text: "We open at 8am.", refusal: null, toolCalls: [], finishReason: "stop", model: "gpt-4o-mini" });
    expect(r.usage).toEqual({ promptTokens: 12, completionTokens: 5 });
    expect(server.requests).toHaveLength(1);
    const req = server.requests[0];
    expect(req.headers.authorization).toBe(`Bearer ${KEY}`);
    expect(req.body).toMatchObject({ model: "gpt-4o-mini", temperature: 0.2, messages: [{ role: "user", content: "When do you open?" }] });
    expect(req.body?.stream).toBeFalsy();
  });

  it("streams a text answer and joins its chunks", async () => {
    const text = "Thanks for waiting. A technician can come tomorrow between 9 and 11.";
    server.setResponder(() => ({ text }));
    const r = await client().complete({ messages: [{ role: "user", content: "hi" }], stream: true });
    expect(r.text).toBe(text);
    expect(r.finishReason).toBe("stop");
    expect(r.usage?.completionTokens).toBeGreaterThan(0);
    expect(server.requests[0].body).toMatchObject({ stream: true, stream_options: { include_usage: true } });
  });

  it("returns parsed tool calls and forwards tools and tool_choice", async () => {
    server.setResponder(() => ({ toolCalls: [{ name: "schedule_callback", arguments: callbackArgs }, { name: "request_human", arguments: {} }] }));
    const r = await client().complete({ messages: [{ role: "user", content: "call me" }], tools, toolChoice: "auto" });
    expect(r.text).toBeNull();
    expect(r.finishReason).toBe("tool_calls");
    expect(r.toolCalls.map((c) => [c.name, c.arguments, c.parseError])).toEqual([
      ["schedule_callback", callbackArgs, false],
      ["request_human", {}, false],
    ]);
    expect(r.toolCalls[0].id).toMatch(/^call_/);
    expect(server.requests[0].body).toMatchObject({ tools, tool_choice: "auto" });
  });

  it("accumulates streamed tool calls whose arguments are split over many chunks", async () => {
    server.setResponder(() => ({
      text: "Let me book that.",
      toolCalls: [{ id: "call_a", name: "schedule_callback", arguments: callbackArgs }, { id: "call_b", name: "request_human", arguments: { reason: "asked for a person" } }],
    }));
    const r = await client().complete({ messages: [{ role: "user", content: "call me" }], tools, stream: true });
    expect(r.text).toBe("Let me book that.");
    expect(r.toolCalls).toEqual([
      { id: "call_a", name: "schedule_callback", arguments: callbackArgs, parseError: false, rawArguments: JSON.stringify(callbackArgs) },
      { id: "call_b", name: "request_human", arguments: { reason: "asked for a person" }, parseError: false, rawArguments: '{"reason":"asked for a person"}' },
    ]);
    expect(r.finishReason).toBe("tool_calls");
  });

  it("flags tool arguments that are not a JSON object instead of throwing", async () => {
    server.setResponder(() => ({ toolCalls: [{ name: "schedule_callback", arguments: '{"when": "tomorrow' }] }));
    for (const stream of [false, true]) {
      const r = await client().complete({ messages: [{ role: "user", content: "x" }], tools, stream });
      expect(r.toolCalls[0]).toMatchObject({ name: "schedule_callback", arguments: null, parseError: true, rawArguments: '{"when": "tomorrow' });
    }
  });
});

describe("structured", () => {
  const Draft = z.object({
    category: z.enum(["MARKETING", "UTILITY", "AUTHENTICATION"]),
    body: z.string().min(1),
    footer: z.string().nullable(),
  });
  const draft = { category: "UTILITY", body: "Hi {{1}}, see you at {{2}}.", footer: null };
  const ask = () => client().structured(Draft, { name: "template_draft", messages: [{ role: "user", content: "a reminder" }] });

  it("returns the parsed object and sends a strict json_schema response_format", async () => {
    server.setResponder(() => ({ json: draft }));
    expect(await ask()).toEqual(draft);
    const rf = server.requests[0].body?.response_format;
    expect(rf).toMatchObject({ type: "json_schema", json_schema: { name: "template_draft", strict: true } });
    expect(rf.json_schema.schema).toMatchObject({ type: "object", required: ["category", "body", "footer"], additionalProperties: false });
    expect(rf.json_schema.schema.$schema).toBeUndefined();
  });

  it("fails with bad_response when the answer is not JSON", async () => {
    server.setResponder(() => ({ raw: "Sure! Here is your template: {category: UTILITY" }));
    expect((await failure(ask())).code).toBe("bad_response");
  });

  it("fails with refused when the model refuses", async () => {
    server.setResponder(() => ({ refusal: "I can't help with that." }));
    expect((await failure(ask())).code).toBe("refused");
  });

  it("fails with bad_response naming the fields when the JSON does not match the schema", async () => {
    server.setResponder(() => ({ json: { category: "NEWSLETTER", body: "" } }));
    const e = await failure(ask());
    expect(e.code).toBe("bad_response");
    expect(e.issues.map((i) => i.split(":")[0]).sort()).toEqual(["body", "category", "footer"]);
  });

  it("is not retried after a bad answer (one request only)", async () => {
    server.setResponder(() => ({ raw: "nope" }));
    await failure(ask());
    expect(server.requests).toHaveLength(1);
  });
});

describe("errors", () => {
  it("maps 429 to rate_limited without retrying", async () => {
    server.setResponder(() => ({ status: 429, headers: { "retry-after": "1" } }));
    const e = await failure(client().complete({ messages: [{ role: "user", content: "x" }] }));
    expect([e.code, e.status]).toEqual(["rate_limited", 429]);
    expect(server.requests).toHaveLength(1);
  });

  it("retries a 500 once and then fails with server_error", async () => {
    server.setResponder(() => ({ status: 500 }));
    const e = await failure(client().complete({ messages: [{ role: "user", content: "x" }] }));
    expect(e.code).toBe("server_error");
    expect(server.requests).toHaveLength(2);
  });

  it("succeeds when the retry after a 503 is answered", async () => {
    server.setResponder((_b, { index }) => (index === 0 ? { status: 503 } : { text: "back" }));
    const r = await client().complete({ messages: [{ role: "user", content: "x" }], stream: true });
    expect(r.text).toBe("back");
    expect(server.requests).toHaveLength(2);
  });

  it("maps a wrong key (401) to unauthorized and an unknown model (404) to bad_request", async () => {
    expect((await failure(client({}, { apiKey: "sk-wrong" }).complete({ messages: [{ role: "user", content: "x" }] }))).code)
      .toBe("unauthorized");
    server.setResponder(() => ({ status: 404 }));
    expect((await failure(client().complete({ messages: [{ role: "user", content: "x" }] }))).code).toBe("bad_request");
  });

  it("maps an answer that is not a chat completion to bad_response", async () => {
    server.setResponder(() => ({ status: 200, body: { hello: "world" } }));
    expect((await failure(client().complete({ messages: [{ role: "user", content: "x" }] }))).code).toBe("bad_response");
  });

  it("maps a refused connection to network", async () => {
    const closed = await startOpenAiServer();
    const url = closed.url;
    await closed.close();
    const e = await failure(client({}, { baseUrl: url }).complete({ messages: [{ role: "user", content: "x" }] }, { deadlineMs: 2000 }));
    expect(e.code).toBe("network");
  });

  it("ends a slow call with timeout at the deadline, retries included", async () => {
    server.setResponder(() => ({ text: "late", delayMs: 3000 }));
    const started = Date.now();
    const e = await failure(client().complete({ messages: [{ role: "user", content: "x" }] }, { deadlineMs: 300 }));
    const elapsed = Date.now() - started;
    expect(e.code).toBe("timeout");
    expect(elapsed).toBeGreaterThanOrEqual(290);
    expect(elapsed).toBeLessThan(1500); // generous slack on a shared machine
  });

  it("ends a streamed answer that stalls mid-way with timeout", async () => {
    server.setResponder(() => ({ text: "a long answer that trickles in far too slowly", chunkDelayMs: 200 }));
    const e = await failure(client().complete({ messages: [{ role: "user", content: "x" }], stream: true }, { deadlineMs: 400 }));
    expect(e.code).toBe("timeout");
  });

  it("ends with timeout when the caller's signal aborts, even before the deadline", async () => {
    server.setResponder(() => ({ hang: true }));
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 100);
    const started = Date.now();
    const e = await failure(client().complete({ messages: [{ role: "user", content: "x" }] }, { signal: controller.signal, deadlineMs: 5000 }));
    expect(e.code).toBe("timeout");
    expect(Date.now() - started).toBeLessThan(1500);
  });

  it("opens the breaker after repeated failures and then refuses without calling (circuit_open)", async () => {
    server.setResponder(() => ({ status: 500 }));
    const llm = client({ breakerThreshold: 3, maxAttempts: 1, breakerName: "llm:test-breaker" });
    const mine = () => server.requests.filter((r) => JSON.stringify(r.body ?? {}).includes("breaker-probe")).length;
    for (let i = 0; i < 3; i++) {
      expect((await failure(llm.complete({ messages: [{ role: "user", content: "breaker-probe" }] }))).code).toBe("server_error");
    }
    const e = await failure(llm.complete({ messages: [{ role: "user", content: "breaker-probe" }] }));
    expect(e.code).toBe("circuit_open");
    // Counted by content: a slow request left over from an earlier test may still arrive meanwhile.
    expect(mine()).toBe(3);
  });

  it("counts timed-out attempts against the breaker", async () => {
    server.setResponder(() => ({ hang: true }));
    const llm = client({ breakerThreshold: 2, maxAttempts: 1, breakerName: "llm:test-timeouts" });
    for (let i = 0; i < 2; i++) {
      expect((await failure(llm.complete({ messages: [{ role: "user", content: "x" }] }, { deadlineMs: 150 }))).code).toBe("timeout");
    }
    expect((await failure(llm.complete({ messages: [{ role: "user", content: "x" }] }, { deadlineMs: 150 }))).code).toBe("circuit_open");
  });

  it("does not count 429s against the breaker", async () => {
    server.setResponder(() => ({ status: 429 }));
    const llm = client({ breakerThreshold: 2, maxAttempts: 1, breakerName: "llm:test-429" });
    for (let i = 0; i < 4; i++) {
      expect((await failure(llm.complete({ messages: [{ role: "user", content: "x" }] }))).code).toBe("rate_limited");
    }
  });
});

describe("embed", () => {
  it("returns the stand-in's deterministic vectors in input order", async () => {
    const input = ["boiler makes a banging noise", "When are you open on Saturday?"];
    const r = await client().embed({ input, dimensions: 64 });
    expect(r.vectors).toHaveLength(2);
    r.vectors.forEach((v, i) => {
      const expected = standInEmbedding(input[i], 64);
      expect(v).toHaveLength(64);
      v.forEach((x, j) => expect(x).toBeCloseTo(expected[j], 5));
    });
    expect(server.requests[0].body).toMatchObject({ input, dimensions: 64, model: "text-embedding-3-small" });
  });

  it("gives similar texts closer vectors than unrelated ones", async () => {
    const [a, b, c] = (await client().embed({ input: ["furnace banging noise", "noise from the furnace", "invoice payment due"] })).vectors;
    const dot = (x: number[], y: number[]) => x.reduce((s, v, i) => s + v * y[i], 0);
    expect(dot(a, b)).toBeGreaterThan(dot(a, c));
  });
});
