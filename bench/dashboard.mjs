#!/usr/bin/env node
// The agents' dashboard: time from a customer's message (web chat API) to its appearance on screen in
// Chromium (the feed: SSE from the `agents` function, LISTEN/NOTIFY), p50 and p99 over MESSAGES
// messages, against the replaced dashboard's way of learning about it, measured in the same run and
// the same page: GET the conversation's messages every 3 s (its polling period).
//
// Each message's clock starts just before the customer's POST and stops when a MutationObserver in
// the page sees its bubble (Date.now() on both sides: one machine). Messages are spaced by a random
// 150-400 ms so that they fall anywhere in the poller's 3 s cycle.
//
//   npm run bench -- dashboard          MESSAGES=100
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { chromium } from "playwright-core";
import { startDenoServer } from "../scripts/deno-server.mjs";
import { ensureDashboardBuilt } from "../scripts/build-dashboard.mjs";
import { createBenchDatabase } from "./lib/db.mjs";
import { quantile } from "./lib/stats.mjs";

const MESSAGES = Number(process.env.MESSAGES ?? 100);
const POLL_MS = 3000;
const SECRET = "bench-secret-bench-secret-bench-secret-0123456789";
const ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
  "--disable-component-update", "--disable-sync"];
const fmt = (x) => `${Math.round(x)} ms`;

await ensureDashboardBuilt();
const db = await createBenchDatabase({ seed: true, dropOnSignal: true });
let server = null;
let context = null;
const profile = await mkdtemp(path.join(os.tmpdir(), "switchboard-bench-chromium-"));
try {
  server = startDenoServer({
    env: {
      PATH: process.env.PATH, HOME: process.env.HOME, DATABASE_URL: db.url, SUPABASE_JWT_SECRET: SECRET, LOG_LEVEL: "error",
      RATE_LIMIT_STORE: "memory", CHAT_RATE_LIMIT_SITE_PER_MINUTE: "100000", CHAT_RATE_LIMIT_IP_PER_MINUTE: "100000",
    },
    port: 0,
  });
  const base = await server.ready;
  const F = `${base}/functions/v1`;

  context = await chromium.launchPersistentContext(profile, { executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium", headless: true, args: ARGS });
  const page = context.pages()[0] ?? await context.newPage();
  await page.goto(`${base}/dashboard/`);
  await page.getByLabel("Email").fill("alex@pinecrest.example");
  await page.getByLabel("Password").fill("alex-pinecrest-local");
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.locator(".live.live").waitFor();

  // A customer asks for a person; Alex accepts on screen.
  const start = await (await fetch(`${F}/chat/sessions`, {
    method: "POST", headers: { "content-type": "application/json" },
    body: JSON.stringify({ site_key: "pinecrest-demo", customer: { name: "Bench Customer" } }),
  })).json();
  const say = (text) => fetch(`${F}/chat/sessions/${start.session_id}/messages`, {
    method: "POST", headers: { "content-type": "application/json", authorization: `Bearer ${start.session_token}` },
    body: JSON.stringify({ text }),
  }).then((r) => r.text());
  await say("I need a person");
  await page.getByRole("button", { name: "Accept Bench Customer" }).click();
  await page.getByTestId("session-status").filter({ hasText: "active" }).waitFor();
  const sessionId = await page.locator(".item:not(.waiting)").first().getAttribute("data-session");

  // Watch for bubbles (live), and poll like the old dashboard (baseline), in the same page.
  await page.evaluate(({ sessionId, pollMs }) => {
    const w = window;
    w.__live = {};
    w.__polled = {};
    const seen = (text, into) => {
      const m = /^bench-(\d+)$/.exec(text.trim());
      if (m && into[m[1]] === undefined) into[m[1]] = Date.now();
    };
    new MutationObserver((records) => {
      for (const r of records) for (const n of r.addedNodes) {
        if (n instanceof HTMLElement && n.matches(".msg.customer")) seen(n.querySelector(".body")?.textContent ?? "", w.__live);
      }
    }).observe(document.body, { childList: true, subtree: true });
    const token = JSON.parse(localStorage.getItem("switchboard-dashboard-auth")).access_token;
    w.__poller = setInterval(async () => {
      const res = await fetch(`${location.origin}/functions/v1/agents/sessions/${sessionId}/messages`, { headers: { authorization: `Bearer ${token}` } });
      const body = await res.json();
      for (const m of body.messages ?? []) if (m.sender === "customer") seen(m.body, w.__polled);
    }, pollMs);
  }, { sessionId, pollMs: POLL_MS });

  const sent = [];
  for (let i = 0; i < MESSAGES; i++) {
    sent[i] = Date.now();
    await say(`bench-${i}`);
    await page.waitForFunction((i) => window.__live[i] !== undefined, i, { timeout: 10_000 });
    await new Promise((r) => setTimeout(r, 150 + Math.random() * 250));
  }
  await page.waitForFunction((n) => Object.keys(window.__polled).length >= n, MESSAGES, { timeout: POLL_MS * 3 });
  const { live, polled } = await page.evaluate(() => ({ live: window.__live, polled: window.__polled }));
  const liveMs = sent.map((t, i) => live[i] - t);
  const pollMs = sent.map((t, i) => polled[i] - t);
  const row = (name, xs) => `${name.padEnd(34)} p50 ${fmt(quantile(xs, 0.5)).padStart(8)}  p99 ${fmt(quantile(xs, 0.99)).padStart(8)}  max ${fmt(Math.max(...xs)).padStart(8)}`;
  console.log(`customer message -> on screen in Chromium, ${MESSAGES} messages`);
  console.log(row("live feed (SSE, this dashboard)", liveMs));
  console.log(row(`baseline: polling every ${POLL_MS / 1000} s`, pollMs));
  console.log(`ratio (baseline / live): p50 ${(quantile(pollMs, 0.5) / quantile(liveMs, 0.5)).toFixed(1)}x, p99 ${(quantile(pollMs, 0.99) / quantile(liveMs, 0.99)).toFixed(1)}x`);
  console.log(`target p99 <= 500 ms: ${quantile(liveMs, 0.99) <= 500 ? "met" : "NOT met"}`);
} finally {
  await context?.close().catch(() => {});
  await rm(profile, { recursive: true, force: true });
  if (server) {
    server.child.kill("SIGTERM");
    await server.exited.catch(() => {});
  }
  await db.drop();
}
