// The OpenAI stand-in's wire format, read raw (no SDK): what the chunks of a streamed tool call look
// like, the error envelope, the key check, models and base64 embeddings.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type OpenAiServer, standInEmbedding, startOpenAiServer } from "../../../scripts/stand-ins/openai-server.mjs";

let server: OpenAiServer;
const auth = { authorization: "Bearer sk-wire", "content-type": "application/json" };

beforeAll(async () => {
  server = await startOpenAiServer({ apiKey: "sk-wire" });
});
afterAll(async () => {
  await server.close();
});
beforeEach(() => server.setResponder(undefined));

async function post(path: string, body: unknown, headers: Record<string, string> = auth) {
  return await fetch(`${server.url}${path}`, { method: "POST", headers, body: JSON.stringify(body) });
}

function events(sse: string): unknown[] {
  return sse.split("\n\n").filter((e) => e.startsWith("data: ")).map((e) => e.slice(6)).map((d) => (d === "[DONE]" ? d : JSON.parse(d)));
}

describe("chat completions over SSE", () => {
  it("opens a tool call with id, type and name, then sends only index and argument slices, then [DONE]", async () => {
    server.setResponder(() => ({ toolCalls: [{ id: "call_1", name: "schedule_callback", arguments: { when: "tomorrow at 2pm" } }] }));
    const res = await post("/chat/completions", {
      model: "gpt-4o-mini", stream: true, stream_options: { include_usage: true }, messages: [{ role: "user", content: "x" }],
    });
    expect(res.headers.get("content-type")).toMatch(/^text\/event-stream/);
    // deno-lint-ignore no-explicit-any
    const ev = events(await res.text()) as any[];
    expect(ev.at(-1)).toBe("[DONE]");
    const chunks = ev.slice(0, -1);
    expect(chunks.every((c) => c.object === "chat.completion.chunk" && c.id === chunks[0].id)).toBe(true);
    expect(chunks[0].choices[0].delta).toMatchObject({ role: "assistant" });
    const toolDeltas = chunks.flatMap((c) => c.choices.flatMap((ch: { delta: { tool_calls?: unknown[] } }) => ch.delta.tool_calls ?? []));
    expect(toolDeltas[0]).toEqual({ index: 0, id: "call_1", type: "function", function: { name: "schedule_callback", arguments: "" } });
    expect(toolDeltas.length).toBeGreaterThan(3);
    for (const d of toolDeltas.slice(1)) expect(Object.keys(d).sort()).toEqual(["function", "index"]);
    expect(toolDeltas.map((d) => d.function.arguments).join("")).toBe('{"when":"tomorrow at 2pm"}');
    const last = chunks.at(-1);
    expect(last.choices).toEqual([]);
    expect(last.usage.total_tokens).toBe(last.usage.prompt_tokens + last.usage.completion_tokens);
    expect(chunks.at(-2).choices[0].finish_reason).toBe("tool_calls");
  });
});

describe("errors and auth", () => {
  it("answers a missing key with OpenAI's 401 envelope", async () => {
    const res = await post("/chat/completions", { model: "m", messages: [{ role: "user", content: "x" }] }, { "content-type": "application/json" });
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ error: { type: "invalid_request_error", code: "invalid_api_key" } });
  });

  it("answers a scripted 429 with the rate-limit envelope and the scripted headers", async () => {
    server.setResponder(() => ({ status: 429, headers: { "retry-after": "2" } }));
    const res = await post("/chat/completions", { model: "m", messages: [{ role: "user", content: "x" }] });
    expect(res.status).toBe(429);
    expect(res.headers.get("retry-after")).toBe("2");
    expect(await res.json()).toMatchObject({ error: { code: "rate_limit_exceeded" } });
  });

  it("refuses a request without messages with 400", async () => {
    const res = await post("/chat/completions", { model: "m" });
    expect(res.status).toBe(400);
  });
});

describe("models and embeddings", () => {
  it("lists models", async () => {
    const res = await fetch(`${server.url}/models`, { headers: auth });
    expect((await res.json()).data.map((m: { id: string }) => m.id)).toContain("gpt-4o-mini");
  });

  it("returns base64 float32 vectors when asked (the SDK's default)", async () => {
    const res = await post("/embeddings", { model: "text-embedding-3-small", input: "hello world", dimensions: 8, encoding_format: "base64" });
    const body = await res.json();
    const bytes = Buffer.from(body.data[0].embedding, "base64");
    const floats = Array.from(new Float32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4));
    const expected = standInEmbedding("hello world", 8);
    floats.forEach((x, i) => expect(x).toBeCloseTo(expected[i], 5));
    expect(Math.hypot(...expected)).toBeCloseTo(1, 10);
  });
});
