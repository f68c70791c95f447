#!/usr/bin/env node
// What run_maintenance_tasks() costs when there is nothing to do, which is what nearly every
// five-minute run finds: a database with live data (open and recently resolved conversations,
// their messages, audit and webhook logs younger than their retention, some organisations with
// their own periods) and no row due. Measured as the client sees it (median over many runs)
// against the baseline `select 1` on the same connection, and as the function reports it
// (total_ms, and per task). Run for ORGS organisations, then for ten times as many, because each
// task probes once per organisation that has candidate rows.
// Target (issue 3): an idle run under 20 ms.
//
//   node bench/sql-maintenance-idle.mjs        ORGS=200 RUNS=300 by default
import { createBenchDatabase } from "./lib/db.mjs";
import { elapsedMs as ms, quantile } from "./lib/stats.mjs";

const ORGS = Number(process.env.ORGS ?? 200);
const RUNS = Number(process.env.RUNS ?? 300);
const CONVERSATIONS_PER_ORG = 100;


const db = await createBenchDatabase({ seed: false, dropOnSignal: true });

/** Adds `orgs` organisations with live data and nothing due. */
async function load(sql, orgs) {
  await sql`insert into public.orgs (name) select 'Org ' || i from generate_series(1, ${orgs}) i`;
  // Through the triggers, so that audit rows and rollups are real: half open, half resolved today.
  await sql`
    insert into public.conversations (org_id, channel, external_id, status, last_activity_at)
    select o.id, 'whatsapp', o.id || '-' || i,
           case when i % 2 = 0 then 'bot' else 'resolved' end,
           now() - (i % 20) * interval '1 hour'
    from public.orgs o cross join generate_series(1, ${CONVERSATIONS_PER_ORG}) i
    where not exists (select 1 from public.conversations c where c.org_id = o.id)`;
  await sql`
    insert into public.messages (conversation_id, org_id, sender_type, body, created_at)
    select c.id, c.org_id, case when i % 2 = 0 then 'customer' else 'bot' end, 'hello', now() - interval '10 minutes'
    from public.conversations c cross join generate_series(1, 5) i
    where not exists (select 1 from public.messages m where m.conversation_id = c.id)`;
  await sql`
    insert into public.webhook_logs (org_id, source, event_type, status_code, created_at)
    select o.id, 'telnyx', 'call.conversation.ended', 200, now() - (i % 29) * interval '1 day'
    from public.orgs o cross join generate_series(1, 50) i
    where not exists (select 1 from public.webhook_logs w where w.org_id = o.id)`;
  await sql`
    insert into public.maintenance_settings (org_id, abandon_after, message_retention, audit_retention, webhook_log_retention)
    select id, interval '48 hours', interval '14 days', interval '180 days', interval '60 days'
    from public.orgs order by id limit ${Math.ceil(orgs / 10)}
    on conflict (org_id) do nothing`;
  await sql`select public.run_maintenance_tasks()`; // anything due goes now; what follows finds nothing
  await sql`vacuum analyze`;
}

async function measure(sql, label) {
  const counts = await sql`
    select (select count(*) from public.orgs)::int as orgs, (select count(*) from public.conversations)::int as conversations,
           (select count(*) from public.messages)::int as messages, (select count(*) from public.audit_logs)::int as audit,
           (select count(*) from public.webhook_logs)::int as webhook`;
  for (let i = 0; i < 20; i++) await sql`select public.run_maintenance_tasks()`; // warm plans and caches
  const base = [];
  const idle = [];
  const server = [];
  const tasks = {};
  for (let i = 0; i < RUNS; i++) {
    let start = process.hrtime.bigint();
    await sql`select 1`;
    base.push(ms(start));
    start = process.hrtime.bigint();
    const [{ r }] = await sql`select public.run_maintenance_tasks() as r`;
    idle.push(ms(start));
    server.push(Number(r.total_ms));
    for (const [task, v] of Object.entries(r)) {
      if (v && typeof v === "object" && "rows" in v) {
        if (v.rows) throw new Error(`the idle run found work in ${task}: ${JSON.stringify(v)}`);
        (tasks[task] ??= []).push(Number(v.ms));
      }
    }
  }
  const c = counts[0];
  console.log(`${label}: ${c.orgs} orgs, ${c.conversations} conversations, ${c.messages} messages, ${c.audit} audit rows, ${c.webhook} webhook logs`);
  console.log(`  select 1 (baseline):        median ${quantile(base, 0.5).toFixed(3)} ms, p95 ${quantile(base, 0.95).toFixed(3)} ms`);
  console.log(`  run_maintenance_tasks():    median ${quantile(idle, 0.5).toFixed(3)} ms, p95 ${quantile(idle, 0.95).toFixed(3)} ms, ratio ${(quantile(idle, 0.5) / quantile(base, 0.5)).toFixed(1)}x baseline`);
  console.log(`  as reported (total_ms):     median ${quantile(server, 0.5).toFixed(3)} ms`);
  console.log(`  per task (median ms):       ${Object.entries(tasks).map(([t, xs]) => `${t} ${quantile(xs, 0.5).toFixed(3)}`).join(", ")}`);
  return quantile(idle, 0.5);
}

try {
  const sql = db.sql;
  await load(sql, ORGS);
  const small = await measure(sql, `${RUNS} idle runs`);
  await load(sql, ORGS * 9);
  const large = await measure(sql, `${RUNS} idle runs, ten times the organisations`);
  console.log(`target: idle run < 20 ms (${small < 20 ? "met" : "NOT met"} at ${ORGS} orgs: ${small.toFixed(2)} ms; ${large < 20 ? "met" : "NOT met"} at ${ORGS * 10} orgs: ${large.toFixed(2)} ms)`);
} finally {
  await db.drop();
}
