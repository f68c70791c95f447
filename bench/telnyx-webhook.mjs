#!/usr/bin/env node
// Benchmark of the telnyx-webhook function: signed assistant.initialization requests over loopback
// to the real Deno functions server, backed by a throwaway migrated and seeded database on the
// local Postgres, compared with a bare Deno.serve baseline under the same load.
//
// Scenarios (64 connections, one request in flight each, 10 s each after a 2 s unmeasured warm-up):
//  baseline  bare Deno.serve: reads the body, answers the same JSON bytes the function answers.
//  (a)       known caller, warm configuration cache: one database round trip (caller_context);
//            also at 8 connections, to show latency when the server is not saturated.
//  (b)       unknown caller, warm cache: the same round trip, finding nobody.
//  (c)       cold configuration cache: every request calls a different number, none of which this
//            server has seen (COLD_NUMBERS numbers are seeded, each with its own dispatcher config),
//            so every request misses the cache and makes two round trips (dispatcher_config, then
//            caller_context). Ends early, and says so, if the numbers run out before the time does.
//  deadline  the database stalled: a transaction holds LOCK TABLE clients IN ACCESS EXCLUSIVE MODE,
//            so every caller lookup waits; the function must still answer within 2.5 s.
// Each request is signed with its own event id (Telnyx's 300 s window allows signing in advance).
//
// Settings: BENCH_DURATION_MS (10000), BENCH_CONNECTIONS (64), BENCH_COLD_NUMBERS (40000),
// BENCH_DATABASE_URL (postgres://postgres@127.0.0.1:5432/postgres; loopback only).
import os from "node:os";
import { execFileSync } from "node:child_process";
import postgres from "postgres";
import { denoBinary } from "../scripts/deno-server.mjs";
import { createBenchDatabase } from "./lib/db.mjs";
import { runLoad } from "./lib/load.mjs";
import { startBaseline, startFunctions } from "./lib/servers.mjs";
import { callOnce, generateKeys, signedInitialization } from "./lib/telnyx.mjs";

const DURATION_MS = Number(process.env.BENCH_DURATION_MS ?? 10_000);
const WARMUP_MS = 2_000;
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 64);
const COLD_NUMBERS = Number(process.env.BENCH_COLD_NUMBERS ?? 40_000);
const DEADLINE_MS = 2_500;
const POOL = 8_192; // distinct signed requests per warm scenario, used in turn

const CALLED = "+14165550100";
const KNOWN = "+14165550199";
const UNKNOWN = "+14165550123";
const DEMO_ORG = "00000000-0000-4000-8000-000000000001";
const DEMO_CONFIG = "00000000-0000-4000-8000-000000000201";
const coldNumber = (i) => `+1647${2_000_000 + i}`;

const cleanups = [];
async function cleanup() {
  while (cleanups.length) await cleanups.pop()().catch(() => {});
}
process.on("SIGINT", () => cleanup().finally(() => process.exit(130)));
process.on("SIGTERM", () => cleanup().finally(() => process.exit(143)));

const fmt = (n, digits = 1) => (Number.isFinite(n) ? n.toFixed(digits) : "-");
const int = (n) => (Number.isFinite(n) ? Math.round(n).toLocaleString("en-US") : "-");

function pool(url, privateKey, size, parties) {
  return Array.from({ length: size }, (_, i) => signedInitialization(url, privateKey, parties(i)));
}

async function scenario(name, url, requests, { warmup = true, cycle = true, connections = CONNECTIONS } = {}) {
  const next = (i) => (cycle ? requests[i % requests.length] : (requests[i] ?? null));
  if (warmup) await runLoad({ url, next, connections, durationMs: WARMUP_MS });
  const result = await runLoad({ url, next, connections, durationMs: DURATION_MS });
  result.name = name;
  await new Promise((r) => setTimeout(r, 300)); // let batched log writes land between scenarios
  return result;
}

async function main() {
  const pgVersion = await (async () => {
    const sql = postgres(process.env.BENCH_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres", { max: 1 });
    try {
      return (await sql`show server_version`)[0].server_version;
    } finally {
      await sql.end();
    }
  })();
  console.log("telnyx-webhook: signed assistant.initialization over loopback");
  console.log(
    `  ${os.cpus().length} cores (${os.cpus()[0]?.model?.trim()}), node ${process.version}, ` +
      `${execFileSync(denoBinary(), ["--version"], { encoding: "utf8" }).split("\n")[0]}, Postgres ${pgVersion}`,
  );
  console.log(
    `  ${CONNECTIONS} connections, ${DURATION_MS / 1000} s per scenario after a ${WARMUP_MS / 1000} s warm-up; ` +
      "generator, server and Postgres share this machine",
  );

  // Database ------------------------------------------------------------------------------------
  let t0 = performance.now();
  const db = await createBenchDatabase({ seed: true });
  cleanups.push(db.drop);
  await db.sql.unsafe(`
    insert into public.phone_numbers (org_id, phone_number, label, ai_dispatcher_enabled)
    select '${DEMO_ORG}', '+1647' || (2000000 + i), 'bench ' || i, true from generate_series(1, ${COLD_NUMBERS}) i;
    insert into public.ai_dispatcher_configs
      (phone_number_id, org_id, company_name, agent_name, greeting_message, instructions, business_hours, default_variables)
    select p.id, p.org_id, c.company_name, c.agent_name, c.greeting_message, c.instructions, c.business_hours, c.default_variables
    from public.phone_numbers p cross join public.ai_dispatcher_configs c
    where c.id = '${DEMO_CONFIG}' and p.label like 'bench %';
    analyze;`);
  console.log(`  database ${db.name}: migrated, seeded, ${int(COLD_NUMBERS)} extra numbers in ${int(performance.now() - t0)} ms`);

  // Servers -------------------------------------------------------------------------------------
  const keys = generateKeys();
  const functions = await startFunctions({ DATABASE_URL: db.url, TELNYX_PUBLIC_KEY: keys.publicKey });
  cleanups.push(functions.stop);
  const url = `${functions.url}/functions/v1/telnyx-webhook`;

  const checks = [
    ["known caller", { from: KNOWN, to: CALLED }, "found"],
    ["unknown caller", { from: UNKNOWN, to: CALLED }, "not_found"],
    ["cold number", { from: KNOWN, to: coldNumber(COLD_NUMBERS) }, "found"],
  ];
  let sample = null;
  for (const [what, parties, expected] of checks) {
    const r = await callOnce(url, keys.privateKey, parties);
    const status = r.answer?.dynamic_variables?.lookup_status;
    if (r.status !== 200 || status !== expected) {
      throw new Error(`sanity check failed for ${what}: HTTP ${r.status}, lookup_status ${status}: ${JSON.stringify(r.answer).slice(0, 300)}`);
    }
    sample ??= r;
  }
  console.log(
    `  sanity: known caller → ${sample.answer.dynamic_variables.customer_name} (${sample.bytes} bytes), ` +
      "unknown → not_found, cold number → found",
  );

  const baseline = await startBaseline(JSON.stringify(sample.answer));
  cleanups.push(baseline.stop);

  // Load ----------------------------------------------------------------------------------------
  const results = [];
  const baselineRequests = pool(baseline.url, keys.privateKey, 256, () => ({ from: KNOWN, to: CALLED }));
  results.push(await scenario("baseline: bare Deno.serve, same answer", baseline.url, baselineRequests));
  await baseline.stop();

  results.push(
    await scenario("(a) known caller, warm cache", url, pool(url, keys.privateKey, POOL, () => ({ from: KNOWN, to: CALLED }))),
  );
  results.push(
    await scenario(
      "(a) known caller, warm cache, 8 connections",
      url,
      pool(url, keys.privateKey, POOL, () => ({ from: KNOWN, to: CALLED })),
      { connections: 8 },
    ),
  );
  results.push(
    await scenario("(b) unknown caller, warm cache", url, pool(url, keys.privateKey, POOL, () => ({ from: UNKNOWN, to: CALLED }))),
  );
  t0 = performance.now();
  // One number (the last) was used by the sanity check: leave it out.
  const cold = pool(url, keys.privateKey, COLD_NUMBERS - 1, (i) => ({ from: KNOWN, to: coldNumber(i + 1) }));
  const signedIn = performance.now() - t0;
  const coldResult = await scenario("(c) cold config cache (new number each)", url, cold, { warmup: false, cycle: false });
  results.push(coldResult);

  const [base] = results;
  const a = results[1];
  console.log("");
  console.log(
    `  ${"scenario".padEnd(42)} ${"req/s".padStart(8)} ${"p50 ms".padStart(8)} ${"p99 ms".padStart(8)} ${"max ms".padStart(8)} ` +
      `${"answers".padStart(8)} ${"non-200".padStart(8)}  vs baseline`,
  );
  for (const r of results) {
    const non200 = r.requests - (r.statuses[200] ?? 0) + r.errors;
    const ratio =
      r === base ? "1.00×" : `${fmt(r.rps / base.rps, 2)}× req/s, p99 ${fmt(r.p99 / base.p99, 1)}× baseline's`;
    console.log(
      `  ${r.name.padEnd(42)} ${int(r.rps).padStart(8)} ${fmt(r.p50).padStart(8)} ${fmt(r.p99).padStart(8)} ` +
        `${fmt(r.max).padStart(8)} ${int(r.requests).padStart(8)} ${int(non200).padStart(8)}  ${ratio}`,
    );
  }
  if (coldResult.requests >= cold.length) {
    console.log(`  (c) used all ${int(cold.length)} numbers in ${fmt(coldResult.elapsedMs / 1000)} s: every request was a miss`);
  } else {
    console.log(`  (c) every request was a cache miss: ${int(coldResult.requests)} of ${int(cold.length)} numbers used (signed in advance in ${int(signedIn)} ms)`);
  }
  console.log(
    `  with every connection busy, mean latency = connections ÷ req/s (${CONNECTIONS} ÷ ${int(a.rps)} = ${fmt((CONNECTIONS / a.rps) * 1000)} ms for (a)): ` +
      `p99 ≤ 20 ms at ${CONNECTIONS} connections needs well over ${int(CONNECTIONS / 0.02)} req/s`,
  );
  console.log(
    `  target (a): p99 ≤ 20 ms: ${a.p99 <= 20 ? "met" : "NOT met"} (${fmt(a.p99)} ms); ` +
      `≥ 3,000 req/s: ${a.rps >= 3000 ? "met" : "NOT met"} (${int(a.rps)})`,
  );

  // Deadline: the database stalls -------------------------------------------------------------
  const locker = postgres(db.url, { max: 1, onnotice: () => {} });
  cleanups.push(() => locker.end({ timeout: 1 }));
  let release;
  const held = new Promise((resolve) => (release = resolve));
  let locked;
  const lockTaken = new Promise((resolve) => (locked = resolve));
  const transaction = locker
    .begin(async (tx) => {
      await tx`lock table public.clients in access exclusive mode`;
      locked();
      await held;
      throw new Error("rollback"); // nothing to keep
    })
    .catch(() => {});
  await lockTaken;
  const probe = await callOnce(url, keys.privateKey, { from: KNOWN, to: CALLED });
  const deadline = await runLoad({
    url,
    next: (() => {
      const reqs = pool(url, keys.privateKey, 4_096, () => ({ from: KNOWN, to: CALLED }));
      return (i) => reqs[i % reqs.length];
    })(),
    connections: CONNECTIONS,
    durationMs: DURATION_MS,
    timeoutMs: 30_000,
  });
  release();
  await transaction;
  const after = await callOnce(url, keys.privateKey, { from: KNOWN, to: CALLED });
  const within = deadline.within(DEADLINE_MS);
  console.log("");
  console.log("  deadline: LOCK TABLE clients IN ACCESS EXCLUSIVE MODE held in an open transaction");
  console.log(
    `    one call during the stall: HTTP ${probe.status} in ${int(probe.ms)} ms, lookup_status ` +
      `${probe.answer?.dynamic_variables?.lookup_status}, company_name "${probe.answer?.dynamic_variables?.company_name ?? ""}"`,
  );
  console.log(
    `    under load: ${int(deadline.requests)} answers in ${fmt(deadline.elapsedMs / 1000)} s, ` +
      `${fmt(within * 100)}% within ${DEADLINE_MS / 1000} s, p50 ${int(deadline.p50)} ms, max ${int(deadline.max)} ms, ` +
      `statuses ${JSON.stringify(deadline.statuses)}${deadline.errors ? `, ${deadline.errors} errors` : ""}`,
  );
  console.log(
    `    after the lock is released: HTTP ${after.status} in ${int(after.ms)} ms, lookup_status ${after.answer?.dynamic_variables?.lookup_status}`,
  );
}

try {
  await main();
} catch (error) {
  console.error(`telnyx-webhook bench failed: ${error.stack ?? error.message}`);
  process.exitCode = 1;
} finally {
  await cleanup();
}
