#!/usr/bin/env node
// Message pruning at scale: 1,000,000 messages in 20,000 conversations, 30 % of them in
// conversations resolved more than 7 days ago. Measures cleanup_old_messages():
//   * rows deleted per second,
//   * the longest single batch: one call with p_max_batches = 1 (claim, one DELETE of at most 500
//     messages, the purge mark) timed inside its transaction, back to back with no rest: an upper
//     bound of the longest statement;
//   * a concurrent writer's insert latency (single-row message inserts into open conversations, one
//     transaction each, as webhooks write) against the same writer with no pruning (the baseline,
//     measured in the same round): while the batches run back to back, and while one default call
//     prunes the same backlog as pg_cron runs it (up to 1,000 batches in one transaction, resting
//     between batches as long as each took).
// Each round reloads the backlog and starts after a checkpoint; the summary takes medians of rounds,
// and the writer's p99 over the latencies of all rounds.
// Targets (issue 3): >= 50,000 messages/s, no statement over 250 ms, writer p99 at most doubled.
//
//   node bench/sql-prune.mjs          CONVERSATIONS=20000 MESSAGES_PER=50 by default
import postgres from "postgres";
import { createBenchDatabase } from "./lib/db.mjs";
import { elapsedMs as ms, quantile } from "./lib/stats.mjs";

const CONVERSATIONS = Number(process.env.CONVERSATIONS ?? 20_000);
const MESSAGES_PER = Number(process.env.MESSAGES_PER ?? 50);
const ELIGIBLE_SHARE = 0.3;
const BASELINE_SECONDS = Number(process.env.BASELINE_SECONDS ?? 3);
const ROUNDS = Number(process.env.ROUNDS ?? 5);


const db = await createBenchDatabase({ seed: false, dropOnSignal: true });

const connect = () => postgres(db.url, { max: 1, onnotice: () => {} });

/** Loads the eligible backlog: MESSAGES_PER messages in every conversation marked 'old-…'. */
async function loadBacklog(sql) {
  await sql.begin(async (tx) => {
    // Bulk load without triggers (counters are not what this measures) and without FK checks.
    await tx`set local session_replication_role = replica`;
    await tx`update public.conversations set messages_purged_at = null where external_id like 'old-%'`;
    await tx`
      insert into public.messages (conversation_id, org_id, sender_type, body, created_at)
      select c.id, c.org_id, case when i % 2 = 0 then 'customer' else 'bot' end,
             'message ' || i || ' of a conversation long resolved', c.resolved_at - interval '1 hour' + i * interval '1 second'
      from public.conversations c cross join generate_series(1, ${MESSAGES_PER}) i
      where c.external_id like 'old-%'
      order by 5  -- in time order, as they arrived: conversations of the same days share pages`;
  });
  await sql`vacuum analyze public.messages`;
  await sql`vacuum analyze public.conversations`;
  // Every round starts just after a checkpoint, so each pays the same full-page writes.
  await sql`checkpoint`;
}

/** Single-row inserts into open conversations until stop() resolves; returns latencies in ms. */
function startWriter(sql, open) {
  let running = true;
  const latencies = [];
  const done = (async () => {
    let i = 0;
    while (running) {
      const c = open[i++ % open.length];
      const start = process.hrtime.bigint();
      await sql`insert into public.messages (conversation_id, org_id, sender_type, body)
                values (${c.id}, ${c.org_id}, 'customer', 'is the technician on the way?')`;
      latencies.push(ms(start));
    }
  })();
  return {
    async stop() {
      running = false;
      await done;
      return latencies;
    },
  };
}

const describe = (label, xs) =>
  `${label}: ${xs.length} inserts, p50 ${quantile(xs, 0.5).toFixed(2)} ms, p99 ${quantile(xs, 0.99).toFixed(2)} ms, max ${Math.max(...xs).toFixed(1)} ms`;

try {
  const sql = db.sql;
  const eligible = Math.round(CONVERSATIONS * ELIGIBLE_SHARE);
  const recent = Math.round((CONVERSATIONS - eligible) / 2);
  const openCount = CONVERSATIONS - eligible - recent;

  const t0 = process.hrtime.bigint();
  await sql`insert into public.orgs (name) select 'Org ' || i from generate_series(1, 20) i`;
  await sql.begin(async (tx) => {
    await tx`set local session_replication_role = replica`;
    await tx`
      insert into public.conversations (org_id, channel, external_id, status, resolution_reason, resolved_at, created_at, last_activity_at)
      select o.id, 'whatsapp', kind || '-' || i,
             case when kind = 'open' then 'bot' else 'resolved' end,
             case when kind = 'open' then null else 'completed' end,
             case kind when 'old' then now() - interval '8 days' - (i % 20) * interval '1 day'
                       when 'recent' then now() - interval '1 day' - (i % 5) * interval '1 day' end,
             now() - interval '40 days', now() - interval '1 minute'
      from (select i, case when i <= ${eligible} then 'old' when i <= ${eligible + recent} then 'recent' else 'open' end as kind
            from generate_series(1, ${CONVERSATIONS}) i) g
      join lateral (select id from public.orgs order by id offset (g.i % 20) limit 1) o on true`;
    await tx`
      insert into public.messages (conversation_id, org_id, sender_type, body, created_at)
      select c.id, c.org_id, case when i % 2 = 0 then 'customer' else 'bot' end,
             'message ' || i || ' of a conversation', coalesce(c.resolved_at, now()) - interval '1 hour' + i * interval '1 second'
      from public.conversations c cross join generate_series(1, ${MESSAGES_PER}) i
      where c.external_id not like 'old-%'`;
  });
  await loadBacklog(sql);
  const [{ total, due }] = await sql`
    select count(*)::int as total,
           count(*) filter (where c.external_id like 'old-%')::int as due
    from public.messages m join public.conversations c on c.id = m.conversation_id`;
  console.log(`loaded ${total} messages in ${CONVERSATIONS} conversations (${due} due for pruning) in ${(ms(t0) / 1000).toFixed(1)} s`);

  const open = await sql`select id, org_id from public.conversations where external_id like 'open-%'`;
  const writerSql = connect();
  const prunerSql = connect();
  await writerSql`select 1`;
  await prunerSql`select public.cleanup_old_messages(now() - interval '1000 years')`; // plans warm, deletes nothing

  // Reference: the same writer while another backend does CPU-only work half the time (as the
  // pruner does between its rests), to tell what any concurrent work costs the writer on this
  // machine from what pruning adds.
  const cpuAlone = startWriter(writerSql, open);
  await new Promise((r) => setTimeout(r, BASELINE_SECONDS * 1000));
  const cpuAloneLatencies = await cpuAlone.stop();
  let busy = true;
  const cpuLoad = (async () => {
    while (busy) {
      const start = process.hrtime.bigint();
      await prunerSql`select count(*) from generate_series(1, 20000)`;
      await new Promise((r) => setTimeout(r, ms(start)));
    }
  })();
  const cpuWriter = startWriter(writerSql, open);
  await new Promise((r) => setTimeout(r, BASELINE_SECONDS * 1000));
  const cpuLatencies = await cpuWriter.stop();
  busy = false;
  await cpuLoad;
  const cpuRatio = quantile(cpuLatencies, 0.99) / quantile(cpuAloneLatencies, 0.99);
  console.log(`reference: ${describe("writer alone", cpuAloneLatencies)}`);
  console.log(`reference: ${describe("writer beside a CPU-only query half the time", cpuLatencies)}; p99 ratio ${cpuRatio.toFixed(2)}`);

  const rounds = [];
  for (let round = 0; round < ROUNDS; round++) {
    if (round > 0) await loadBacklog(sql);

    // Baseline: the writer alone, as long as pruning took last time (or BASELINE_SECONDS).
    const baseline = startWriter(writerSql, open);
    await new Promise((r) => setTimeout(r, BASELINE_SECONDS * 1000));
    const baseLatencies = await baseline.stop();

    // Pruning one batch per call (each call its own transaction), the writer alongside.
    const batchTimes = [];
    let deleted = 0;
    const writer = startWriter(writerSql, open);
    const pruneStart = process.hrtime.bigint();
    for (;;) {
      // The call's statement is timed inside its transaction, so the commit's WAL flush (shared
      // with every other writer on the server) is not counted as statement time.
      const n = await prunerSql.begin(async (tx) => {
        const start = process.hrtime.bigint();
        const [{ n }] = await tx`select public.cleanup_old_messages(now(), null, 1)::int as n`;
        batchTimes.push(ms(start));
        return n;
      });
      deleted += n;
      if (n === 0) break;
    }
    const pruneMs = ms(pruneStart);
    const pruneLatencies = await writer.stop();

    // The same backlog again, pruned by one default call (one transaction, as pg_cron runs it).
    await loadBacklog(sql);
    const writer2 = startWriter(writerSql, open);
    const oneStart = process.hrtime.bigint();
    const [{ n: oneDeleted }] = await prunerSql`select public.cleanup_old_messages()::int as n`;
    const oneMs = ms(oneStart);
    const oneLatencies = await writer2.stop();

    const r = {
      deleted,
      calls: batchTimes.length,
      rate: deleted / (pruneMs / 1000),
      medianBatch: quantile(batchTimes, 0.5),
      longest: Math.max(...batchTimes),
      base: baseLatencies,
      during: pruneLatencies,
      ratio: quantile(pruneLatencies, 0.99) / quantile(baseLatencies, 0.99),
      oneDeleted,
      oneRate: oneDeleted / (oneMs / 1000),
      one: oneLatencies,
      oneRatio: quantile(oneLatencies, 0.99) / quantile(baseLatencies, 0.99),
    };
    rounds.push(r);
    console.log(`round ${round + 1}: ${r.deleted} messages in ${r.calls} calls at ${r.rate.toFixed(0)}/s, batch median ${r.medianBatch.toFixed(1)} ms, longest ${r.longest.toFixed(1)} ms`);
    console.log(`  ${describe("writer alone (baseline)", r.base)}`);
    console.log(`  ${describe("writer during batch-per-call prune", r.during)}; p99 ratio ${r.ratio.toFixed(2)}`);
    console.log(`  one default call: ${r.oneDeleted} messages at ${r.oneRate.toFixed(0)}/s; ${describe("writer during it", r.one)}; p99 ratio ${r.oneRatio.toFixed(2)}`);
  }
  await writerSql.end();
  await prunerSql.end();

  const med = (f) => quantile(rounds.map(f), 0.5);
  const rate = med((r) => r.rate);
  const longest = Math.max(...rounds.map((r) => r.longest));
  const ratio = med((r) => r.ratio);
  console.log(`summary over ${ROUNDS} rounds (median of rounds; longest batch over all):`);
  console.log(`  prune rate ${rate.toFixed(0)} messages/s batch per call, ${med((r) => r.oneRate).toFixed(0)} messages/s in one call`);
  console.log(`  longest batch ${longest.toFixed(1)} ms`);
  // p99 over the latencies of all rounds together: each round's window holds only 1-2 thousand
  // inserts, so a per-round p99 rests on a dozen samples.
  const pooled = (f) => rounds.flatMap(f);
  const baseP99 = quantile(pooled((r) => r.base), 0.99);
  const oneRatio = quantile(pooled((r) => r.one), 0.99) / baseP99;
  const oneRate = med((r) => r.oneRate);
  console.log(`  writer p99 ratio, per-round medians: ${ratio.toFixed(2)} back-to-back batches, ${med((r) => r.oneRatio).toFixed(2)} one default call`);
  console.log(`  writer p99 over all rounds: alone ${baseP99.toFixed(2)} ms, back-to-back batches ${quantile(pooled((r) => r.during), 0.99).toFixed(2)} ms (ratio ${(quantile(pooled((r) => r.during), 0.99) / baseP99).toFixed(2)}), one default call ${quantile(pooled((r) => r.one), 0.99).toFixed(2)} ms (ratio ${oneRatio.toFixed(2)})`);
  console.log(`  for reference, a CPU-only query beside the writer half the time: p99 ratio ${cpuRatio.toFixed(2)}`);
  console.log(
    `targets: >= 50,000 messages/s (${oneRate >= 50_000 ? "met" : "NOT met"} as scheduled: ${oneRate.toFixed(0)}/s), ` +
      `longest batch <= 250 ms (${longest <= 250 ? "met" : "NOT met"}), ` +
      `writer p99 ratio <= 2 as scheduled (${oneRatio <= 2 ? "met" : "NOT met"}: ${oneRatio.toFixed(2)})`,
  );
} finally {
  await db.drop();
}
