// Run under Deno by tests/e2e/llm-deno.test.ts: the LLM client as the edge functions load it (deno.json's
// npm: mapping), against the OpenAI stand-in at OPENAI_BASE_URL. Prints one JSON line of results.
import { z } from "zod";
import { createLlmClient, LlmError, llmSettingsFromEnv } from "../../../functions/_shared/llm/index.ts";

// Reached through globalThis so that tsc (Node types) checks this file too.
const deno = (globalThis as unknown as { Deno: { env: { toObject(): Record<string, string> } } }).Deno;
const settings = llmSettingsFromEnv(deno.env.toObject());
if (!settings) throw new Error("OPENAI_API_KEY is not set");
const llm = createLlmClient(settings, { maxAttempts: 1 });
const tools = [{ type: "function" as const, function: { name: "schedule_callback", parameters: { type: "object", properties: {} } } }];

const plain = await llm.complete({ messages: [{ role: "user", content: "plain" }] });
const streamed = await llm.complete({ messages: [{ role: "user", content: "tools" }], tools, stream: true });
const draft = await llm.structured(z.object({ body: z.string() }), { name: "draft", messages: [{ role: "user", content: "json" }] });
const embedded = await llm.embed({ input: ["hello world"], dimensions: 16 });
let timeout: string | null = null;
try {
  await llm.complete({ messages: [{ role: "user", content: "slow" }] }, { deadlineMs: 200 });
} catch (error) {
  timeout = error instanceof LlmError ? error.code : String(error);
}
console.log(JSON.stringify({
  plain: plain.text,
  streamedCalls: streamed.toolCalls.map((c) => ({ name: c.name, arguments: c.arguments })),
  draft,
  dimensions: embedded.vectors[0].length,
  timeout,
}));
