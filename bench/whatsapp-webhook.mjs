#!/usr/bin/env node
// Benchmark of the WhatsApp channel: Meta-signed message events over loopback to the real Deno
// functions server, a throwaway migrated and seeded database on the local Postgres, a local
// OpenAI-compatible server and a local Graph API server.
//
//  baseline  bare Deno.serve reading the body and answering fixed JSON (Deno's HTTP cost alone).
//  (a) ack   whatsapp-webhook acknowledgement latency at BENCH_CONNECTIONS (64) connections while
//            the LLM takes 1-3 s per answer: every event is a new message (its own wamid) from one
//            of 2,000 customers, so every acknowledged event also starts a bot turn in the background.
//            First an open loop at BENCH_RATE (40) events/s over up to 64 connections (Meta's
//            deliveries arrive at their own pace), then a closed loop (each connection sends its next
//            event as soon as it has the answer: the most events the server accepts; their bot work
//            queues, durably, in the inbox), then the drain: how fast that backlog is answered.
//  (b) e2e   end-to-end reply time with the rule-based brain (no LLM): from sending the event to the
//            Graph API server receiving the bot's reply, one message at a time, then 8 at a time.
// Afterwards it checks the ledger: every acknowledged message answered once, none twice.
//
// Settings: BENCH_DURATION_MS (10000), BENCH_CONNECTIONS (64), BENCH_DATABASE_URL (loopback only).
import { createHmac, randomUUID } from "node:crypto";
import http from "node:http";
import os from "node:os";
import { execFileSync } from "node:child_process";
import { denoBinary } from "../scripts/deno-server.mjs";
import { startGraphApi } from "../scripts/stand-ins/graph-api.mjs";
import { startOpenAiServer } from "../scripts/stand-ins/openai-server.mjs";
import { createBenchDatabase } from "./lib/db.mjs";
import { encodeRequest, runLoad } from "./lib/load.mjs";
import { startBaseline, startFunctions } from "./lib/servers.mjs";
import { quantile } from "./lib/stats.mjs";

const DURATION_MS = Number(process.env.BENCH_DURATION_MS ?? 10_000);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 64);
const WARMUP_MS = 2_000;
const SECRET = "bench-app-secret";
const TOKEN = "bench-graph-token";
const NUMBER_ID = "100000000000001"; // the demo organisation's, from the seed
const CUSTOMERS = 2_000;
const fmt = (n, d = 1) => (Number.isFinite(n) ? n.toFixed(d) : "-");
const int = (n) => (Number.isFinite(n) ? Math.round(n).toLocaleString("en-US") : "-");

const cleanups = [];
const cleanup = async () => {
  while (cleanups.length) await cleanups.pop()().catch(() => {});
};
process.on("SIGINT", () => cleanup().finally(() => process.exit(130)));
process.on("SIGTERM", () => cleanup().finally(() => process.exit(143)));

let seq = 0;
function event(from, text) {
  seq += 1;
  return JSON.stringify({
    object: "whatsapp_business_account",
    entry: [{ id: "0", changes: [{ field: "messages", value: {
      messaging_product: "whatsapp",
      metadata: { display_phone_number: "14165550100", phone_number_id: NUMBER_ID },
      contacts: [{ profile: { name: "Bench" }, wa_id: from }],
      messages: [{ from, id: `wamid.BENCH${seq}${randomUUID().slice(0, 8)}`, timestamp: String(Math.floor(Date.now() / 1000)), type: "text", text: { body: text } }],
    } }] }],
  });
}
const sign = (body) => `sha256=${createHmac("sha256", SECRET).update(body).digest("hex")}`;
const customer = (i) => `1647${String(3_000_000 + (i % CUSTOMERS)).padStart(7, "0")}`;

/** Customer messages not answered yet: in the inbox, or stored with a job. */
async function unanswered(db) {
  const [{ n }] = await db.sql`
    select (select count(*)::int from public.whatsapp_inbox where moved_at is null) + (select count(*)::int from public.inbound_jobs where dead_at is null) as n`;
  return n;
}

/** Waits (at most timeoutMs) until nothing is left to answer. */
async function drained(db, timeoutMs) {
  const started = Date.now();
  while ((await unanswered(db)) > 0 && Date.now() - started < timeoutMs) await new Promise((r) => setTimeout(r, 500));
}

async function main() {
  console.log("whatsapp-webhook: Meta-signed message events over loopback");
  console.log(`  ${os.cpus().length} cores (${os.cpus()[0]?.model?.trim()}), node ${process.version}, ${execFileSync(denoBinary(), ["--version"], { encoding: "utf8" }).split("\n")[0]}`);
  const db = await createBenchDatabase({ seed: true });
  cleanups.push(db.drop);
  const graph = await startGraphApi({ tokens: [TOKEN] });
  cleanups.push(graph.close);
  const llm = await startOpenAiServer({
    apiKey: "sk-bench",
    respond: () => ({ text: "Thanks, a colleague will follow up shortly.", delayMs: 1000 + Math.random() * 2000 }),
  });
  cleanups.push(llm.close);
  const common = {
    DATABASE_URL: db.url, WHATSAPP_APP_SECRET: SECRET, WHATSAPP_VERIFY_TOKEN: "v", WHATSAPP_ACCESS_TOKEN: TOKEN,
    WHATSAPP_GRAPH_URL: graph.url, SUPABASE_SERVICE_ROLE_KEY: "bench-service-role-key-0123456789", LOG_LEVEL: "warn",
    RATE_LIMIT_STORE: "memory",
  };

  // Baseline ------------------------------------------------------------------------------------
  const baseline = await startBaseline('{"received":1,"duplicates":0,"statuses":0,"templates":0}');
  cleanups.push(baseline.stop);
  const baseReq = (() => {
    const body = event(customer(0), "hello");
    return encodeRequest({ url: `${baseline.url}/`, headers: { "content-type": "application/json", "x-hub-signature-256": sign(body) }, body });
  })();
  await runLoad({ url: baseline.url, next: () => baseReq, connections: CONNECTIONS, durationMs: WARMUP_MS });
  const base = await runLoad({ url: baseline.url, next: () => baseReq, connections: CONNECTIONS, durationMs: DURATION_MS });
  await baseline.stop();

  // (a) acknowledgements while the LLM answers in 1-3 s ------------------------------------------
  const withLlm = await startFunctions({ ...common, OPENAI_API_KEY: "sk-bench", OPENAI_BASE_URL: llm.url, LLM_TIMEOUT_MS: "8000", CHAT_TURN_DEADLINE_MS: "10000", DB_MAX_CONNECTIONS: "8" });
  cleanups.push(withLlm.stop);
  const url = `${withLlm.url}/functions/v1/whatsapp-webhook`;
  const total = Math.ceil((DURATION_MS + WARMUP_MS) / 1000) * 4000;
  const requests = Array.from({ length: total }, (_, i) => {
    const body = event(customer(i), `question number ${i}`);
    return encodeRequest({ url, headers: { "content-type": "application/json", "x-hub-signature-256": sign(body) }, body });
  });
  let cursor = 0;
  const next = () => requests[cursor++] ?? null;
  // Open loop: events at a steady rate, whatever the answers do, on at most CONNECTIONS sockets.
  const RATE = Number(process.env.BENCH_RATE ?? 40);
  const agent = new http.Agent({ keepAlive: true, maxSockets: CONNECTIONS });
  const paced = [];
  let pacedErrors = 0;
  const sendOne = (bytes) => new Promise((resolve) => {
    const text = bytes.toString("latin1");
    const body = text.slice(text.indexOf("\r\n\r\n") + 4);
    const sig = /x-hub-signature-256: (\S+)/.exec(text)[1];
    const started = performance.now();
    const req = http.request(url, { method: "POST", agent, headers: { "content-type": "application/json", "x-hub-signature-256": sig, "content-length": Buffer.byteLength(body) } }, (res) => {
      res.resume();
      res.on("end", () => {
        if (res.statusCode === 200) paced.push(performance.now() - started);
        else pacedErrors += 1;
        resolve();
      });
    });
    req.on("error", () => {
      pacedErrors += 1;
      resolve();
    });
    req.end(body);
  });
  const inflight = [];
  const pacedStart = performance.now();
  for (let i = 0; performance.now() - pacedStart < DURATION_MS; i++) {
    const due = pacedStart + (i * 1000) / RATE;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const bytes = next();
    if (!bytes) break;
    inflight.push(sendOne(bytes));
  }
  await Promise.all(inflight);
  agent.destroy();
  await drained(db, 60_000); // the open loop's messages are answered before the closed loop starts
  await runLoad({ url, next, connections: CONNECTIONS, durationMs: WARMUP_MS });
  const llmCallsBefore = llm.requests.length;
  const ack = await runLoad({ url, next, connections: CONNECTIONS, durationMs: DURATION_MS });
  const turnsDuring = llm.requests.length - llmCallsBefore;
  const acked = cursor;

  console.log("");
  console.log(`  scenario                                   req/s      p50 ms   p90 ms   p99 ms   max ms   non-200`);
  const row = (name, r) => console.log(`  ${name.padEnd(40)} ${int(r.rps).padStart(8)} ${fmt(r.p50).padStart(9)} ${fmt(r.p90).padStart(8)} ${fmt(r.p99).padStart(8)} ${fmt(r.max).padStart(8)} ${int(r.requests - (r.statuses[200] ?? 0)).padStart(9)}`);
  row("baseline: bare Deno.serve", base);
  row(`(a) ack, LLM 1-3 s/answer, ${CONNECTIONS} conns`, ack);
  console.log(`  (a) p99 ${fmt(ack.p99)} ms = ${fmt(ack.p99 / base.p99)}x the baseline's; throughput ${fmt(ack.rps / base.rps, 3)}x; LLM calls started during the run: ${int(turnsDuring)}`);
  console.log(`  (a) open loop, ${RATE} events/s (first, on a server with no backlog): p50 ${fmt(quantile(paced, 0.5))} ms, p99 ${fmt(quantile(paced, 0.99))} ms, max ${fmt(Math.max(...paced))} ms over ${paced.length} events, ${pacedErrors} errors (p99 ${fmt(quantile(paced, 0.99) / base.p99)}x the baseline's)`);

  // The backlog the closed loop built drains at the pipeline's own pace: measure that pace, then
  // check the ledger (every accepted message stored and answered once, none twice).
  const backlog = await unanswered(db);
  const drainStarted = Date.now();
  await drained(db, Number(process.env.BENCH_DRAIN_MS ?? 60_000));
  const drainedCount = backlog - (await unanswered(db));
  const drainSeconds = (Date.now() - drainStarted) / 1000;
  console.log(`  drain: ${int(drainedCount)} of ${int(backlog)} waiting messages moved and answered in ${fmt(drainSeconds)} s = ${fmt(drainedCount / drainSeconds)} messages/s (LLM 1-3 s each, ${process.env.WHATSAPP_BACKGROUND_CONCURRENCY ?? 4} at a time)`);
  const [ledger] = await db.sql`
    select (select count(*)::int from public.messages where sender_type = 'customer') as stored,
           (select count(*)::int from public.whatsapp_inbox where moved_at is null) as in_inbox,
           (select count(*)::int from public.inbound_jobs) as unanswered,
           (select count(*)::int from (select m.metadata->>'reply_to' from public.messages m where m.sender_type = 'bot'
              group by 1 having count(*) > 1) d) as answered_twice`;
  console.log(`  ledger: ${int(acked)} events acknowledged = ${int(ledger.stored)} stored in conversations + ${int(ledger.in_inbox)} still in the inbox (durable, the sweep takes them); ${int(ledger.unanswered)} stored but not yet answered; ${int(ledger.answered_twice)} answered twice`);
  await withLlm.stop();

  // (b) end-to-end with the rule-based brain -------------------------------------------------------
  const rules = await startFunctions(common);
  cleanups.push(rules.stop);
  const rulesUrl = `${rules.url}/functions/v1/whatsapp-webhook`;
  const waiting = new Map();
  const graphE2e = graph; // replies arrive here; match them by recipient
  const onSent = () => {
    for (const m of graphE2e.sent.splice(0)) {
      const w = waiting.get(m.to);
      if (w) {
        waiting.delete(m.to);
        w(performance.now());
      }
    }
  };
  const poll = setInterval(onSent, 1);
  async function roundTrip(i) {
    const from = `1905${String(4_000_000 + i).padStart(7, "0")}`;
    const body = event(from, "I need a person");
    const started = performance.now();
    const replied = new Promise((resolve) => waiting.set(`+${from}`, resolve));
    const res = await fetch(rulesUrl, { method: "POST", headers: { "content-type": "application/json", "x-hub-signature-256": sign(body) }, body });
    await res.arrayBuffer();
    return (await replied) - started;
  }
  for (let i = 0; i < 20; i++) await roundTrip(100_000 + i); // warm-up
  const serial = [];
  for (let i = 0; i < 300; i++) serial.push(await roundTrip(i));
  const parallel = [];
  let k = 1000;
  await Promise.all(Array.from({ length: 8 }, async () => {
    for (let j = 0; j < 50; j++) parallel.push(await roundTrip(k++));
  }));
  clearInterval(poll);
  console.log("");
  console.log("  (b) end-to-end reply time, rule-based brain (event sent → reply received by the Graph API server)");
  console.log(`      one at a time: p50 ${fmt(quantile(serial, 0.5))} ms, p99 ${fmt(quantile(serial, 0.99))} ms over ${serial.length} messages`);
  console.log(`      8 at a time:   p50 ${fmt(quantile(parallel, 0.5))} ms, p99 ${fmt(quantile(parallel, 0.99))} ms over ${parallel.length} messages`);
  console.log(`      baseline p50 (bare Deno.serve, 64 conns): ${fmt(base.p50)} ms`);
  await rules.stop();
}

main().then(cleanup, async (error) => {
  console.error(error);
  await cleanup();
  process.exit(1);
});
