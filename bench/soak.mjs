#!/usr/bin/env node
// Soak: every public endpoint under mixed valid and hostile load for SOAK_SECONDS (60) over loopback,
// against the real Deno functions server and a throwaway migrated database on the local Postgres.
//
// Mix (per request, weighted): signed integration events in both schemes from many addresses,
// replays of accepted events, a flood of signed events from one address (rate-limited), forged and
// malformed integration requests, oversized bodies, /health, /health/detailed, /metrics, signed and
// forged Telnyx webhooks. Bounded: SOAK_CONNECTIONS (16) requests in flight, for SOAK_SECONDS only,
// to 127.0.0.1 only.
//
// Reports requests served, errors (a valid request not answered as documented, or any 5xx or
// transport failure), p50/p99 per kind, and rows lost: every event answered {duplicate: false} must
// be in integration_events, and replays must have added nothing. It also measures the rate-limit
// store's SQL function on its own (SOAK_RL_CALLS sequential calls). Exits 1 if a valid request
// failed or a row was lost: those are correctness failures, not timings.
//
//   node bench/soak.mjs                     Postgres rate-limit store
//   SOAK_STORE=redis node bench/soak.mjs    Redis store (REDIS_URL, default redis://127.0.0.1:6379)
//   SOAK_KINDS=sw-event,health node bench/soak.mjs   only some kinds of request
import crypto, { randomUUID } from "node:crypto";
import http from "node:http";
import { createBenchDatabase } from "./lib/db.mjs";
import { startFunctions } from "./lib/servers.mjs";
import { generateKeys, initializationEvent, signedHeaders as telnyxHeaders } from "./lib/telnyx.mjs";

const SECONDS = Number(process.env.SOAK_SECONDS ?? 60);
const CONNECTIONS = Number(process.env.SOAK_CONNECTIONS ?? 16);
const STORE = process.env.SOAK_STORE ?? "postgres";
const REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
const RL_CALLS = Number(process.env.SOAK_RL_CALLS ?? 2000);
const IP_LIMIT = 1000; // per address per minute: valid traffic is spread over VALID_IPS addresses
const VALID_IPS = 512;
const FLOOD_IP = "203.0.113.250";
const TOKEN = `soak-${randomUUID()}`;
const SW_SECRET = `whsec_${crypto.randomBytes(32).toString("base64")}`;
const LEGACY_SECRET = `legacy-${randomUUID()}`;
const CALLED = "+14165550100"; // the seeded demo number

if (!Number.isFinite(SECONDS) || SECONDS <= 0 || SECONDS > 600) throw new Error("SOAK_SECONDS must be 1-600");
if (!Number.isInteger(CONNECTIONS) || CONNECTIONS < 1 || CONNECTIONS > 256) throw new Error("SOAK_CONNECTIONS must be 1-256");

const cleanups = [];
async function cleanup() {
  while (cleanups.length) await cleanups.pop()().catch(() => {});
}
process.on("SIGINT", () => cleanup().finally(() => process.exit(130)));
process.on("SIGTERM", () => cleanup().finally(() => process.exit(143)));

const now = () => Math.floor(Date.now() / 1000);
const pick = (items) => items[Math.floor(Math.random() * items.length)];
const validIp = () => `198.18.${Math.floor(Math.random() * (VALID_IPS / 256))}.${Math.floor(Math.random() * 256)}`;

function event() {
  return JSON.stringify({
    type: "order.created",
    id: `evt_${randomUUID()}`,
    occurred_at: new Date().toISOString(),
    data: { order_id: randomUUID().slice(0, 8), total: Math.round(Math.random() * 10_000) / 100, note: "soak ✓" },
  });
}

function swHeaders(body, ip) {
  const id = `msg_${randomUUID().replaceAll("-", "")}`;
  const ts = now();
  const key = Buffer.from(SW_SECRET.slice("whsec_".length), "base64");
  const sig = crypto.createHmac("sha256", key).update(`${id}.${ts}.${body}`).digest("base64");
  return { "content-type": "application/json", "x-forwarded-for": ip, "webhook-id": id, "webhook-timestamp": String(ts), "webhook-signature": `v1,${sig}` };
}

function legacyHeaders(body, ip) {
  const ts = now();
  const sig = crypto.createHmac("sha256", LEGACY_SECRET).update(`${ts}.${body}`).digest("hex");
  return { "content-type": "application/json", "x-forwarded-for": ip, "x-timestamp": String(ts), "x-signature": sig };
}

// node:http with a keep-alive agent: Node 20's fetch costs the client more CPU than the server
// spends answering, which on two shared cores would measure the client, not the functions.
const agent = new http.Agent({ keepAlive: true, maxSockets: CONNECTIONS });
function send(url, { method = "GET", headers = {}, body } = {}) {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: u.hostname, port: u.port, path: u.pathname + u.search, method, headers, agent, timeout: 10_000 },
      (res) => {
        const chunks = [];
        res.on("data", (c) => chunks.push(c));
        res.on("end", () => resolve({ status: res.statusCode, text: Buffer.concat(chunks).toString("utf8") }));
        res.on("error", reject);
      },
    );
    req.on("timeout", () => req.destroy(Object.assign(new Error("timeout"), { name: "TimeoutError" })));
    req.on("error", reject);
    req.end(body);
  });
}

function quantile(sorted, q) {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

async function measureRateLimitFunction(sql) {
  const times = [];
  for (let i = 0; i < RL_CALLS; i++) {
    const t0 = performance.now();
    await sql`select public.rate_limit_hit(array[${`bench:${i % 100}`}::text, 'bench:shared'], array[1000000, 1000000], 60)`;
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return { p50: quantile(times, 0.5), p99: quantile(times, 0.99), max: times[times.length - 1] };
}

async function main() {
  console.log(`soak: ${SECONDS} s, ${CONNECTIONS} connections, rate-limit store ${STORE}, loopback only`);
  const db = await createBenchDatabase({ seed: true });
  cleanups.push(db.drop);
  const [org] = await db.sql`select id from public.orgs limit 1`;
  const [sw] = await db.sql`
    insert into public.integrations (org_id, name, scheme, secret, rate_limit_per_minute)
    values (${org.id}, 'soak-sw', 'standard-webhooks', ${SW_SECRET}, 100000) returning id`;
  const [legacy] = await db.sql`
    insert into public.integrations (org_id, name, scheme, secret, rate_limit_per_minute)
    values (${org.id}, 'soak-legacy', 'legacy-hmac', ${LEGACY_SECRET}, 100000) returning id`;

  const rl = await measureRateLimitFunction(db.sql);
  console.log(`  rate_limit_hit() alone, ${RL_CALLS} sequential calls over loopback: p50 ${rl.p50.toFixed(2)} ms, ` +
    `p99 ${rl.p99.toFixed(2)} ms, max ${rl.max.toFixed(2)} ms`);

  const keys = generateKeys();
  const server = await startFunctions({
    DATABASE_URL: db.url,
    TELNYX_PUBLIC_KEY: keys.publicKey,
    METRICS_TOKEN: TOKEN,
    TRUSTED_IP_HEADER: "x-forwarded-for",
    RATE_LIMIT_STORE: STORE,
    ...(STORE === "redis" ? { REDIS_URL } : {}),
    RATE_LIMIT_IP_PER_MINUTE: String(IP_LIMIT),
    RATE_LIMIT_ORG_PER_MINUTE: "1000000",
    LOG_LEVEL: "error",
  });
  cleanups.push(server.stop);
  const fn = (path) => `${server.url}/functions/v1/${path}`;
  const swUrl = fn(`integrations/${sw.id}`);
  const legacyUrl = fn(`integrations/${legacy.id}`);

  const accepted = { [sw.id]: new Set(), [legacy.id]: new Set() };
  const replayable = [];
  const stats = new Map(); // kind -> { n, valid, errors, times, statuses }
  const errors = [];

  // kind, weight, valid?, build() -> { url, init, expect(status, json) -> boolean, onOk? }
  const kinds = [
    ["sw-event", 30, true, () => {
      const body = event();
      const headers = swHeaders(body, validIp());
      return { url: swUrl, init: { method: "POST", body, headers }, expect: (s, j) => s === 200 && j?.duplicate === false,
        onOk: () => { accepted[sw.id].add(JSON.parse(body).id); replayable.push({ url: swUrl, body, headers }); } };
    }],
    ["legacy-event", 12, true, () => {
      const body = event();
      const headers = legacyHeaders(body, validIp());
      return { url: legacyUrl, init: { method: "POST", body, headers }, expect: (s, j) => s === 200 && j?.duplicate === false,
        onOk: () => { accepted[legacy.id].add(JSON.parse(body).id); replayable.push({ url: legacyUrl, body, headers }); } };
    }],
    ["replay", 6, true, () => {
      const r = replayable.length ? pick(replayable) : null;
      if (!r) return null;
      return { url: r.url, init: { method: "POST", body: r.body, headers: r.headers }, expect: (s, j) => s === 200 && j?.duplicate === true };
    }],
    ["flood-one-ip", 10, false, () => {
      const body = event();
      return { url: swUrl, init: { method: "POST", body, headers: swHeaders(body, FLOOD_IP) }, expect: (s) => s === 200 || s === 429,
        onOk: (s, j) => { if (s === 200 && j?.duplicate === false) accepted[sw.id].add(JSON.parse(body).id); } };
    }],
    ["forged", 8, false, () => {
      const body = event();
      const headers = swHeaders(body, validIp());
      headers["webhook-signature"] = `v1,${crypto.randomBytes(32).toString("base64")}`;
      return { url: swUrl, init: { method: "POST", body, headers }, expect: (s) => s === 401 };
    }],
    ["malformed", 8, false, () => {
      const body = pick(["{", "[]", '{"type":1}', JSON.stringify({ type: "x", id: "y", occurred_at: "nope", data: {} }), "\u0000"]);
      return { url: legacyUrl, init: { method: "POST", body, headers: legacyHeaders(body, validIp()) }, expect: (s) => s === 400 || s === 422 };
    }],
    ["oversized", 1, false, () => {
      const body = JSON.stringify({ blob: "x".repeat(300_000) });
      return { url: swUrl, init: { method: "POST", body, headers: swHeaders(body, validIp()) }, expect: (s) => s === 413 };
    }],
    ["health", 8, true, () => ({ url: fn("health"), init: {}, expect: (s) => s === 200 })],
    ["health-detailed", 3, true, () => ({
      url: fn("health/detailed"), init: { headers: { authorization: `Bearer ${TOKEN}` } }, expect: (s) => s === 200,
    })],
    ["metrics", 3, true, () => ({ url: fn("metrics"), init: { headers: { authorization: `Bearer ${TOKEN}` } }, expect: (s) => s === 200 })],
    ["metrics-no-token", 1, false, () => ({ url: fn("metrics"), init: {}, expect: (s) => s === 401 })],
    ["telnyx-signed", 8, true, () => {
      const body = JSON.stringify(initializationEvent({ from: "+14165550199", to: CALLED }));
      return { url: fn("telnyx-webhook"), init: { method: "POST", body, headers: telnyxHeaders(keys.privateKey, body) }, expect: (s) => s === 200 };
    }],
    ["telnyx-forged", 4, false, () => {
      const body = JSON.stringify(initializationEvent({ from: "+14165550199", to: CALLED }));
      const headers = telnyxHeaders(keys.privateKey, body);
      headers["telnyx-signature-ed25519"] = crypto.randomBytes(64).toString("base64");
      return { url: fn("telnyx-webhook"), init: { method: "POST", body, headers }, expect: (s) => s === 401 };
    }],
  ];
  // SOAK_KINDS=sw-event,health runs only those kinds (to see what one of them costs).
  if (process.env.SOAK_KINDS) {
    const only = new Set(process.env.SOAK_KINDS.split(","));
    kinds.splice(0, kinds.length, ...kinds.filter((k) => only.has(k[0])));
    if (kinds.length === 0) throw new Error("SOAK_KINDS names no known kind");
  }
  const totalWeight = kinds.reduce((n, k) => n + k[1], 0);
  const chooseKind = () => {
    let r = Math.random() * totalWeight;
    for (const k of kinds) if ((r -= k[1]) < 0) return k;
    return kinds[0];
  };

  const deadline = performance.now() + SECONDS * 1000;
  const started = performance.now();
  async function worker() {
    while (performance.now() < deadline) {
      const [kind, , valid, build] = chooseKind();
      const req = build();
      if (!req) continue;
      const s = stats.get(kind) ?? { n: 0, valid, errors: 0, times: [], statuses: {} };
      stats.set(kind, s);
      const t0 = performance.now();
      let status = 0;
      let json = null;
      try {
        const res = await send(req.url, req.init);
        status = res.status;
        const text = res.text;
        try {
          json = JSON.parse(text);
        } catch {
          json = null;
        }
      } catch (error) {
        status = -1;
        if (errors.length < 10) errors.push(`${kind}: ${error.name}`);
      }
      s.times.push(performance.now() - t0);
      s.n++;
      s.statuses[status] = (s.statuses[status] ?? 0) + 1;
      const ok = status > 0 && status < 500 && req.expect(status, json);
      if (ok) req.onOk?.(status, json);
      // A valid request must get its documented answer; a hostile one must get any 4xx (or what it
      // expects), never a 5xx or a dropped connection.
      if (valid ? !ok : status <= 0 || status >= 500) {
        s.errors++;
        if (errors.length < 10) errors.push(`${kind}: status ${status}`);
      }
    }
  }
  await Promise.all(Array.from({ length: CONNECTIONS }, worker));
  const elapsed = (performance.now() - started) / 1000;
  await new Promise((r) => setTimeout(r, 500));

  let lost = 0;
  let extra = 0;
  for (const [integrationId, ids] of Object.entries(accepted)) {
    const rows = await db.sql`select event_id from public.integration_events where integration_id = ${integrationId}`;
    const stored = new Set(rows.map((r) => r.event_id));
    for (const id of ids) if (!stored.has(id)) lost++;
    extra += stored.size - ids.size;
  }

  let total = 0;
  let validErrors = 0;
  let hostileErrors = 0;
  const all = [];
  console.log("\n  kind               requests  errors     p50 ms     p99 ms  statuses");
  for (const [kind, s] of [...stats].sort()) {
    total += s.n;
    if (s.valid) validErrors += s.errors;
    else hostileErrors += s.errors;
    s.times.sort((a, b) => a - b);
    all.push(...s.times);
    console.log(`  ${kind.padEnd(18)} ${String(s.n).padStart(8)} ${String(s.errors).padStart(7)} ${quantile(s.times, 0.5).toFixed(2).padStart(10)} ` +
      `${quantile(s.times, 0.99).toFixed(2).padStart(10)}  ${JSON.stringify(s.statuses)}`);
  }
  all.sort((a, b) => a - b);
  const acceptedCount = Object.values(accepted).reduce((n, s) => n + s.size, 0);
  console.log(`\n  requests served: ${total} in ${elapsed.toFixed(1)} s (${(total / elapsed).toFixed(0)}/s); p50 ${quantile(all, 0.5).toFixed(2)} ms, p99 ${quantile(all, 0.99).toFixed(2)} ms`);
  console.log(`  errors: ${validErrors} on valid requests (must be 0), ${hostileErrors} 5xx/transport on hostile ones (must be 0)`);
  console.log(`  events accepted: ${acceptedCount}; rows lost: ${lost} (must be 0); rows beyond those accepted: ${extra} (must be 0)`);
  if (errors.length) console.log(`  first errors: ${errors.join("; ")}`);
  const ok = validErrors === 0 && hostileErrors === 0 && lost === 0 && extra === 0;
  console.log(`  soak ${ok ? "PASSED" : "FAILED"}`);
  agent.destroy();
  await cleanup();
  process.exitCode = ok ? 0 : 1;
}

main().catch(async (error) => {
  console.error(error);
  await cleanup();
  process.exit(1);
});
