#!/usr/bin/env node
// What the audit trail costs writers: insert and update throughput on conversations and messages
// with the audit triggers (enable_audit) against the same work without them (disable_audit),
// measured in the same run, alternating the two modes round by round so drift hits both alike.
//
//   conversations insert / update   an audited table: one audit row per insert or real update
//   messages insert                 messages are not audited, but each one updates its
//                                   conversation's bookkeeping columns, which the audit trigger
//                                   must look at and skip
//   messages insert / update (+audited)   the same with enable_audit('public.messages') as well
//
// Rows go in 500-row statements (row triggers fire per row, so this is the server's cost per row
// without client round trips: the harshest view of the overhead), and once more as single-row
// statements one after another, as a webhook writes them.
// Target (issue 3): audit overhead <= 25 % on insert throughput.
//
//   node bench/sql-audit.mjs            ROUNDS=7 ROWS=4000 SINGLE_ROWS=1000 by default
import { createBenchDatabase } from "./lib/db.mjs";
import { elapsedMs as ms, median } from "./lib/stats.mjs";

const ROUNDS = Number(process.env.ROUNDS ?? 7);
const ROWS = Number(process.env.ROWS ?? 4000);
const STATEMENT_ROWS = 500;
const SINGLE_ROWS = Number(process.env.SINGLE_ROWS ?? 1000);


const db = await createBenchDatabase({ seed: false, dropOnSignal: true });
const sql = db.sql;

try {
  const [{ id: orgId }] = await sql`insert into public.orgs (name) values ('Bench Co') returning id`;
  // Conversations that messages go to: one message per conversation per statement, as traffic
  // spreads over many conversations.
  const targets = (await sql`
    insert into public.conversations (org_id, channel, external_id)
    select ${orgId}, 'whatsapp', 'target-' || i from generate_series(1, ${STATEMENT_ROWS}) i
    returning id`).map((r) => r.id);

  const audited = async (on, withMessages) => {
    await sql`select public.disable_audit('public.messages')`;
    if (on) {
      await sql`select public.enable_audit('public.conversations')`;
      if (withMessages) await sql`select public.enable_audit('public.messages')`;
    } else {
      await sql`select public.disable_audit('public.conversations')`;
    }
  };

  let serial = 0;
  const workloads = {
    "conversations insert": async () => {
      const start = process.hrtime.bigint();
      for (let done = 0; done < ROWS; done += STATEMENT_ROWS) {
        const base = serial;
        serial += STATEMENT_ROWS;
        await sql`
          insert into public.conversations (org_id, channel, external_id, customer_phone, metadata)
          select ${orgId}, 'web', 'c-' || (${base}::int + i), '+1416555' || lpad((i % 10000)::text, 4, '0'),
                 jsonb_build_object('source', 'bench', 'n', i)
          from generate_series(1, ${STATEMENT_ROWS}) i`;
      }
      return ms(start);
    },
    "conversations update": async () => {
      const start = process.hrtime.bigint();
      for (let done = 0; done < ROWS; done += STATEMENT_ROWS) {
        await sql`
          update public.conversations set priority = (priority + 1) % 4, summary = 'updated ' || ${done}::int
          where id in (select id from public.conversations where channel = 'web' order by random() limit ${STATEMENT_ROWS})`;
      }
      return ms(start);
    },
    "messages insert": async () => {
      const start = process.hrtime.bigint();
      for (let done = 0; done < ROWS; done += STATEMENT_ROWS) {
        await sql`
          insert into public.messages (conversation_id, org_id, sender_type, body)
          select t, ${orgId}, case when i % 2 = 0 then 'customer' else 'bot' end, 'message body number ' || i
          from unnest(${targets}::uuid[]) with ordinality u(t, i)`;
      }
      return ms(start);
    },
    "messages update": async () => {
      const start = process.hrtime.bigint();
      for (let done = 0; done < ROWS; done += STATEMENT_ROWS) {
        await sql`
          update public.messages set metadata = jsonb_build_object('edited', ${done}::int)
          where id in (select id from public.messages order by random() limit ${STATEMENT_ROWS})`;
      }
      return ms(start);
    },
  };

  const single = {
    "conversations insert, single-row statements": async () => {
      const start = process.hrtime.bigint();
      for (let i = 0; i < SINGLE_ROWS; i++) {
        await sql`insert into public.conversations (org_id, channel, external_id) values (${orgId}, 'sms', ${"s-" + serial++})`;
      }
      return ms(start);
    },
    "messages insert, single-row statements": async () => {
      const start = process.hrtime.bigint();
      for (let i = 0; i < SINGLE_ROWS; i++) {
        await sql`insert into public.messages (conversation_id, org_id, sender_type, body)
                  values (${targets[i % targets.length]}, ${orgId}, 'customer', 'hello there')`;
      }
      return ms(start);
    },
  };

  const results = [];
  const measure = async (name, fn, rows, withMessages = false) => {
    const times = { on: [], off: [] };
    await audited(false, false);
    await fn(); // warm-up: plans cached, pages in memory
    for (let round = 0; round < ROUNDS; round++) {
      for (const mode of round % 2 === 0 ? ["off", "on"] : ["on", "off"]) {
        await audited(mode === "on", withMessages);
        times[mode].push(await fn());
      }
    }
    const off = rows / (median(times.off) / 1000);
    const on = rows / (median(times.on) / 1000);
    results.push({ name: name + (withMessages ? " (+messages audited)" : ""), off, on });
  };

  for (const name of ["conversations insert", "conversations update", "messages insert"]) {
    await measure(name, workloads[name], ROWS);
  }
  await measure("messages insert", workloads["messages insert"], ROWS, true);
  await measure("messages update", workloads["messages update"], ROWS, true);
  for (const [name, fn] of Object.entries(single)) await measure(name, fn, SINGLE_ROWS);

  const [{ audit_rows }] = await sql`select count(*)::int as audit_rows from public.audit_logs`;
  console.log(`audit overhead: ${ROUNDS} rounds per mode, median of each; ${audit_rows} audit rows written in all`);
  console.log("workload                                          without rows/s   with rows/s   ratio   overhead");
  for (const r of results) {
    const ratio = r.on / r.off;
    console.log(
      `${r.name.padEnd(49)} ${r.off.toFixed(0).padStart(14)} ${r.on.toFixed(0).padStart(13)} ${ratio.toFixed(2).padStart(7)} ${((1 - ratio) * 100).toFixed(1).padStart(8)} %`,
    );
  }
  const overhead = (r) => (1 - r.on / r.off) * 100;
  const inserts = results.filter((r) => r.name.includes("insert") && !r.name.includes("+messages"));
  const singleRow = inserts.filter((r) => r.name.includes("single-row"));
  const bulk = inserts.filter((r) => !r.name.includes("single-row"));
  const worstSingle = Math.max(...singleRow.map(overhead));
  const worstBulk = Math.max(...bulk.map(overhead));
  console.log(
    `target: <= 25 % on insert throughput (production configuration: conversations audited, messages not): ` +
      `single-row statements as webhooks write them ${worstSingle.toFixed(1)} % (${worstSingle <= 25 ? "met" : "NOT met"}); ` +
      `500-row statements ${worstBulk.toFixed(1)} % (${worstBulk <= 25 ? "met" : "NOT met"})`,
  );
} finally {
  await db.drop();
}
