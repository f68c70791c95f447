// The LLM client under Deno (the runtime of the edge functions), not only Node: type-checked by deno
// check and run by deno run against the OpenAI stand-in with the real SDK.
import { spawnSync } from "node:child_process";
import path from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { denoBinary, root } from "../../scripts/deno-server.mjs";
import { type OpenAiServer, startOpenAiServer } from "../../scripts/stand-ins/openai-server.mjs";

let server: OpenAiServer;
beforeAll(async () => {
  server = await startOpenAiServer({
    apiKey: "sk-deno",
    respond: (body) => {
      const said = body.messages?.at(-1)?.content;
      if (said === "tools") return { toolCalls: [{ name: "schedule_callback", arguments: { when: "tomorrow at 2pm", phone: "+14165550199" } }] };
      if (said === "json") return { json: { body: "Hi {{1}}" } };
      if (said === "slow") return { text: "late", delayMs: 2000 };
      return { text: "hello from the stand-in" };
    },
  });
});
afterAll(async () => {
  await server.close();
});

it("type-checks the llm module under Deno", () => {
  const r = spawnSync(denoBinary(), ["check", "--quiet", "--no-lock", `--config=${path.join(root, "deno.json")}`,
    "functions/_shared/llm/index.ts", "tests/e2e/support/llm-smoke.ts"], { cwd: root, encoding: "utf8" });
  expect(r.stderr).toBe("");
  expect(r.status).toBe(0);
}, 60_000);

it("completes, streams tool calls, parses structured output and embeds under Deno", async () => {
  const { spawn } = await import("node:child_process");
  const child = spawn(denoBinary(), ["run", "--quiet", "--no-prompt", "--no-lock", `--config=${path.join(root, "deno.json")}`,
    "--allow-net", "--allow-env", `--allow-read=${root}`, "--allow-sys", "tests/e2e/support/llm-smoke.ts"], {
    cwd: root,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, NO_COLOR: "1", OPENAI_API_KEY: "sk-deno", OPENAI_BASE_URL: server.url, LLM_TIMEOUT_MS: "3000" },
  });
  let out = "";
  let err = "";
  child.stdout.on("data", (d) => (out += d));
  child.stderr.on("data", (d) => (err += d));
  const code = await new Promise((resolve) => child.on("exit", resolve));
  expect(err).toBe("");
  expect(code).toBe(0);
  expect(JSON.parse(out.trim().split("\n").at(-1)!)).toEqual({
    plain: "hello from the stand-in",
    streamedCalls: [{ name: "schedule_callback", arguments: { when: "tomorrow at 2pm", phone: "+14165550199" } }],
    draft: { body: "Hi {{1}}" },
    dimensions: 16,
    timeout: "timeout",
  });
}, 60_000);
