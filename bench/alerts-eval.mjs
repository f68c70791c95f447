#!/usr/bin/env node
// What evaluate_alerts() costs on a quiet minute, which is what nearly every run finds: ORGS
// organisations (2,000 by default), each with an AI-answered number open for business now and
// steady Telnyx traffic (webhook_logs in the last five minutes and in the hour before), the
// functions' counters growing with healthy answers between runs, and no incident to open or
// resolve. Measured as the client sees it (median over RUNS runs) against `select 1` on the same
// connection, and as the function reports it (ms). Then again with stand-ins for the tables other
// features add (outbox, agent_sessions, llm_calls) filled with healthy rows, since their rules then
// wake up; and once per new connection, as pg_cron runs it (each run is a new session, so nothing
// is planned or cached yet), against a new connection that runs `select 1`.
// Target (issue 11): under 20 ms per run with 2,000 organisations and no incidents.
//
//   node bench/alerts-eval.mjs        ORGS=2000 RUNS=200 COLD_RUNS=30 by default
import postgres from "postgres";
import { createBenchDatabase } from "./lib/db.mjs";
import { elapsedMs as ms, quantile } from "./lib/stats.mjs";

const ORGS = Number(process.env.ORGS ?? 2000);
const RUNS = Number(process.env.RUNS ?? 200);
const COLD_RUNS = Number(process.env.COLD_RUNS ?? 30);
const ALWAYS_OPEN = JSON.stringify(Object.fromEntries(["mon", "tue", "wed", "thu", "fri", "sat", "sun"].map((d) => [d, [["00:00", "24:00"]]])));

const db = await createBenchDatabase({ seed: false, dropOnSignal: true });

async function load(sql) {
  await sql`insert into public.orgs (name, timezone) select 'Org ' || i, 'UTC' from generate_series(1, ${ORGS}) i`;
  await sql`
    insert into public.phone_numbers (org_id, phone_number)
    select o.id, '+1416' || lpad((5000000 + row_number() over (order by o.id))::text, 7, '0') from public.orgs o`;
  await sql`
    insert into public.ai_dispatcher_configs (phone_number_id, org_id, company_name, business_hours)
    select p.id, p.org_id, 'Co', ${ALWAYS_OPEN}::text::jsonb from public.phone_numbers p`;
  // Steady traffic: a call every 70 s in the last hour, for every organisation, written in time
  // order as the webhook writes it.
  await sql`
    insert into public.webhook_logs (org_id, source, event_type, status_code, outcome, duration_ms, created_at)
    select o.id, 'telnyx', 'assistant.initialization', 200, 'found', 40, now() - i * interval '70 seconds'
    from generate_series(50, 0, -1) i cross join public.orgs o`;
  await sql`vacuum analyze`;
}

/** Healthy answers since the last run, as the functions would flush them. */
async function traffic(sql) {
  await sql`select public.metrics_add(${JSON.stringify([
    { name: "switchboard_http_requests_total", labels: { function: "telnyx-webhook", status: "200" }, value: 120 },
    { name: "switchboard_http_request_duration_seconds_sum", labels: { function: "telnyx-webhook" }, value: 4.8 },
    { name: "switchboard_http_request_duration_seconds_count", labels: { function: "telnyx-webhook" }, value: 120 },
    { name: "switchboard_cache_requests_total", labels: { cache: "dispatcher_config", result: "hit" }, value: 115 },
    { name: "switchboard_cache_requests_total", labels: { cache: "dispatcher_config", result: "miss" }, value: 5 },
    { name: "switchboard_http_requests_total", labels: { function: "integrations", status: "200" }, value: 30 },
  ])}::text::jsonb)`;
}

async function standIns(sql) {
  await sql.unsafe(`
    create table public.outbox (id bigint generated always as identity primary key, org_id uuid, status text,
                                created_at timestamptz, sent_at timestamptz);
    create index outbox_undelivered_idx on public.outbox (created_at) where status in ('pending', 'sending', 'failed');
    create table public.agent_sessions (id bigint generated always as identity primary key, org_id uuid, status text,
                                        queued_at timestamptz);
    create index agent_sessions_waiting_idx on public.agent_sessions (queued_at) where status = 'waiting';
    create table public.llm_calls (id bigint generated always as identity primary key, org_id uuid,
                                   created_at timestamptz, error_code text);
    create index llm_calls_created_idx on public.llm_calls (created_at);`);
  await sql`
    insert into public.outbox (org_id, status, created_at, sent_at)
    select o.id, case when i = 0 then 'pending' else 'sent' end, now() - i * interval '3 minutes', now()
    from public.orgs o cross join generate_series(0, 20) i`;
  await sql`
    insert into public.agent_sessions (org_id, status, queued_at)
    select o.id, case when i = 0 then 'waiting' else 'ended' end, now() - i * interval '4 minutes'
    from public.orgs o cross join generate_series(0, 5) i`;
  await sql`
    insert into public.llm_calls (org_id, created_at, error_code)
    select o.id, now() - i * interval '2 minutes', null from public.orgs o cross join generate_series(0, 9) i`;
  await sql`vacuum analyze`;
}

async function measure(sql, label) {
  for (let i = 0; i < 20; i++) {
    await traffic(sql);
    await sql`select public.evaluate_alerts()`;
  }
  const base = [];
  const evals = [];
  const server = [];
  for (let i = 0; i < RUNS; i++) {
    await traffic(sql);
    let start = process.hrtime.bigint();
    await sql`select 1`;
    base.push(ms(start));
    start = process.hrtime.bigint();
    const [{ r }] = await sql`select public.evaluate_alerts() as r`;
    evals.push(ms(start));
    server.push(Number(r.ms));
    if (r.opened || r.fired || r.resolved || Object.keys(r.errors).length) {
      throw new Error(`a quiet run found something: ${JSON.stringify(r)}`);
    }
  }
  const b = quantile(base, 0.5);
  const e = quantile(evals, 0.5);
  console.log(`${label}`);
  console.log(`  select 1 (baseline):   median ${b.toFixed(3)} ms, p95 ${quantile(base, 0.95).toFixed(3)} ms`);
  console.log(`  evaluate_alerts():     median ${e.toFixed(3)} ms, p95 ${quantile(evals, 0.95).toFixed(3)} ms, ratio ${(e / b).toFixed(1)}x baseline`);
  console.log(`  as reported (ms):      median ${quantile(server, 0.5).toFixed(3)} ms`);
  return e;
}

/** One new connection per run, as pg_cron runs a job. */
async function measureCold(url) {
  const base = [];
  const evals = [];
  for (let i = 0; i < COLD_RUNS; i++) {
    for (const [list, query] of [[base, "select 1"], [evals, "select public.evaluate_alerts()"]]) {
      const sql = postgres(url, { max: 1, onnotice: () => {} });
      const start = process.hrtime.bigint();
      await sql.unsafe(query);
      list.push(ms(start));
      await sql.end();
    }
  }
  const b = quantile(base, 0.5);
  const e = quantile(evals, 0.5);
  console.log(`new connection per run (${COLD_RUNS} runs, as pg_cron does)`);
  console.log(`  connect + select 1:         median ${b.toFixed(3)} ms`);
  console.log(`  connect + evaluate_alerts(): median ${e.toFixed(3)} ms, ratio ${(e / b).toFixed(1)}x baseline, evaluation alone ≈ ${(e - b).toFixed(1)} ms`);
  return e - b;
}

try {
  const sql = db.sql;
  await load(sql);
  const [{ n }] = await sql`select count(*)::int as n from public.webhook_logs`;
  const quiet = await measure(sql, `${RUNS} quiet runs: ${ORGS} organisations, ${n} webhook logs, growing counters`);
  await standIns(sql);
  const all = await measure(sql, `${RUNS} quiet runs with outbox, agent_sessions and llm_calls present (stand-ins, healthy rows)`);
  const cold = await measureCold(db.url);
  const verdict = (x) => (x < 20 ? "met" : "NOT met");
  console.log(`target: < 20 ms per run at ${ORGS} orgs: ${verdict(quiet)} (${quiet.toFixed(2)} ms); with every rule's table: ${verdict(all)} (${all.toFixed(2)} ms); in a new session: ${verdict(cold)} (${cold.toFixed(1)} ms)`);
} finally {
  await db.drop();
}
