#!/usr/bin/env node
// The WhatsApp template builder:
//   1. validations per second of the validator on the mixed corpus (tests/unit/templates/corpus.ts),
//      in process under Deno, against a shape-only check measured in the same run;
//   2. turns to a final template, over HTTP on the real functions server, for a complete one-message
//      request and a vague one: with the guided flow (no key) and with the test LLM (the OpenAI-
//      compatible stand-in answering as scripts/stand-ins/template-model.mjs), with the median time
//      of a chat turn against GET health on the same server (the baseline).
//
//   npm run bench -- template-validator        (BENCH_SECONDS=5 for longer throughput runs)
import { spawnSync } from "node:child_process";
import path from "node:path";
import { denoBinary, root } from "../scripts/deno-server.mjs";
import { startOpenAiServer } from "../scripts/stand-ins/openai-server.mjs";
import { templateModelResponder } from "../scripts/stand-ins/template-model.mjs";
import { createBenchDatabase } from "./lib/db.mjs";
import { startFunctions } from "./lib/servers.mjs";
import { median } from "./lib/stats.mjs";

const fmt = (n) => Math.round(n).toLocaleString("en-US");

// 1. Throughput -------------------------------------------------------------------------------
const run = spawnSync(denoBinary(), [
  "run", "--quiet", "--no-lock", `--config=${path.join(root, "deno.json")}`, "--allow-env", `--allow-read=${root}`,
  path.join(root, "bench/lib/template-throughput.ts"),
], { cwd: root, encoding: "utf8", env: { ...process.env, NO_COLOR: "1" } });
if (run.status !== 0) {
  console.error(run.stderr);
  process.exit(1);
}
const t = JSON.parse(run.stdout.trim().split("\n").at(-1));
console.log(`validator: ${t.cases} templates (${t.invalid} invalid), ${fmt(t.full)} validations/s`);
console.log(`baseline (shape-only check): ${fmt(t.baseline)} checks/s; full validation costs ${(t.baseline / t.full).toFixed(1)}x the baseline`);

// 2. Turns to final ---------------------------------------------------------------------------
const GUIDED = {
  "one message": [
    "category: utility\nlanguage: en_US\nname: appointment_reminder\nbody: Hi {{1}}, this is a reminder of your appointment tomorrow at {{2}}. Reply below if you need to change it.\nexamples: Maria | 10:30 AM\nbuttons: quick reply Reschedule",
    "confirm",
  ],
  vague: [
    "I need a reminder for appointments with a button to reschedule",
    "utility, en_US",
    "yes",
    "Hi {{customer_name}}, this is a reminder of your appointment tomorrow at {{time}}. Reply below if you need to change it.",
    "Maria | 10:30 AM",
    "yes",
    "confirm",
  ],
};
const LLM = {
  "one message": [
    "A utility reminder in English for tomorrow's appointment with the customer's name and time, a button to reschedule, no header or footer.",
    "confirm",
  ],
  vague: [
    "I need a WhatsApp template",
    "It's an appointment reminder",
    "In English, with the customer's name and the time",
    "Add a button to reschedule, nothing else",
    "confirm",
  ],
};

async function drive(base, messages) {
  const started = await (await fetch(`${base}/session/new`)).json();
  const times = [];
  let turns = 0;
  let state = "gathering";
  for (const message of messages) {
    const t0 = performance.now();
    const res = await fetch(`${base}/chat`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ session_id: started.session_id, message }),
    });
    const body = await res.json();
    times.push(performance.now() - t0);
    turns++;
    if (!res.ok) throw new Error(`chat failed: ${JSON.stringify(body)}`);
    state = body.state;
    if (state === "final") break;
  }
  return { turns, state, times };
}

async function healthMs(base, n = 30) {
  const times = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await (await fetch(`${base}/health`)).json();
    times.push(performance.now() - t0);
  }
  return median(times);
}

const db = await createBenchDatabase({ seed: true });
const llm = await startOpenAiServer({ apiKey: "bench-key", respond: templateModelResponder });
const servers = [];
try {
  for (const [label, env, scripts] of [
    ["guided", {}, GUIDED],
    ["test LLM", { TEMPLATE_BUILDER_MODE: "llm", OPENAI_API_KEY: "bench-key", OPENAI_BASE_URL: llm.url }, LLM],
  ]) {
    // No per-organisation limit: every session here belongs to the demo organisation.
    const server = await startFunctions({ DATABASE_URL: db.url, LOG_LEVEL: "error", TEMPLATE_RATE_LIMIT_ORG_PER_MINUTE: "0", ...env });
    servers.push(server);
    const base = `${server.url}/functions/v1/template-builder`;
    const baseline = await healthMs(base);
    for (const [kind, messages] of Object.entries(scripts)) {
      // Three runs: the first warms the isolate; figures from all three.
      const runs = [];
      for (let i = 0; i < 3; i++) runs.push(await drive(base, messages));
      const last = runs.at(-1);
      const turnMs = median(runs.flatMap((r) => r.times));
      console.log(
        `${label}, ${kind} request: ${last.state === "final" ? `final in ${last.turns} turn(s)` : `NOT final after ${last.turns} turns`}; ` +
          `median turn ${turnMs.toFixed(1)} ms vs GET health ${baseline.toFixed(1)} ms (${(turnMs / baseline).toFixed(1)}x)`,
      );
    }
    await server.stop();
  }
} finally {
  for (const s of servers) await s.stop().catch(() => {});
  await llm.close();
  await db.drop();
}
