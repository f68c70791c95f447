#!/usr/bin/env node
// Human agents: how fast the database assigns, and how fast the live feed shows a customer's message.
//   1. Assignments per second: 10,000 waiting sessions and 200 online agents (capacity 50 each, so
//      every session fits), one assign_waiting_sessions() run, against a baseline measured in the
//      same run: one set-based UPDATE of as many rows of a plain table (no eligibility, no locks,
//      no triggers), the floor of writing that many rows.
//   2. Queue -> assignment when an agent is free: a conversation entering 'queued' in an 'auto'
//      organisation (the trigger opens the session and assigns it in the same statement), against
//      the same statement in a 'manual' organisation (session opened, not assigned).
//   3. Customer message -> its event on the feed (SSE from the real `agents` function under Deno,
//      LISTEN/NOTIFY), p50 and p99, against the replaced dashboard's 3 s polling (1.5 s on average);
//      then again while an unrelated write transaction stays open on the server (the feed's first
//      version waited for every older transaction of the server: one long writer anywhere stalled
//      it, and this benchmark with it, 5 s per message).
//
//   npm run bench -- agents         SESSIONS=10000 AGENTS=200 FEED_MESSAGES=200
//   PARTS=assign,queue,feed         which parts to run (default: all three)
import { SignJWT } from "jose";
import postgres from "postgres";
import { startDenoServer } from "../scripts/deno-server.mjs";
import { createBenchDatabase } from "./lib/db.mjs";
import { elapsedMs as ms, quantile } from "./lib/stats.mjs";

const SESSIONS = Number(process.env.SESSIONS ?? 10_000);
const AGENTS = Number(process.env.AGENTS ?? 200);
const FEED_MESSAGES = Number(process.env.FEED_MESSAGES ?? 200);
const FEED_TIMEOUT_MS = Number(process.env.FEED_TIMEOUT_MS ?? 3000);
const PARTS = new Set((process.env.PARTS ?? "assign,queue,feed").split(",").map((p) => p.trim()));
const SECRET = "bench-secret-bench-secret-bench-secret-0123456789";
const fmt = (x) => (x >= 100 ? Math.round(x).toLocaleString("en-US") : x.toFixed(2));

const db = await createBenchDatabase({ seed: false, dropOnSignal: true });
const sql = db.sql;
let server = null;
try {
  const [{ id: org }] = await sql`insert into public.orgs (name) values ('Bench') returning id`;
  const [{ id: manualOrg }] = await sql`insert into public.orgs (name) values ('Bench manual') returning id`;
  await sql`insert into public.agent_settings (org_id, assignment_mode) values (${org}, 'manual'), (${manualOrg}, 'manual')`;
  await sql`insert into auth.users (id, email) select gen_random_uuid(), 'agent' || i || '@bench.example' from generate_series(1, ${AGENTS}) i`;
  await sql`
    insert into public.support_agents (org_id, user_id, display_name, status, max_concurrent, skills, timezone, shifts)
    select ${org}, u.id, 'Agent ' || row_number() over (), 'online', ${Math.ceil(SESSIONS / AGENTS)},
           case when row_number() over () % 4 = 0 then '{plumbing}'::text[] else '{}'::text[] end, 'America/Toronto',
           case when row_number() over () % 2 = 0 then null else
             '{"mon":[["00:00","24:00"]],"tue":[["00:00","24:00"]],"wed":[["00:00","24:00"]],"thu":[["00:00","24:00"]],"fri":[["00:00","24:00"]],"sat":[["00:00","24:00"]],"sun":[["00:00","24:00"]]}'::jsonb end
    from auth.users u where u.email like '%@bench.example'`;
  await sql`
    insert into public.conversations (org_id, channel, external_id, status, priority, metadata)
    select ${org}, 'web', 'bench:' || i, 'queued', (i % 4)::smallint,
           case when i % 10 = 0 then '{"required_skill": "plumbing"}'::jsonb else '{}'::jsonb end
    from generate_series(1, ${SESSIONS}) i`;
  await sql`analyze`;

  // 1. Throughput.
  if (PARTS.has("assign")) {
    let t = process.hrtime.bigint();
    const [{ n }] = await sql`select public.assign_waiting_sessions(${org}::uuid, now(), ${SESSIONS}) as n`;
    const assignMs = ms(t);
    await sql`create temp table baseline as select g as id, 'waiting'::text as status, null::int as agent from generate_series(1, ${SESSIONS}) g`;
    t = process.hrtime.bigint();
    await sql`update baseline set status = 'active', agent = id % ${AGENTS}`;
    const baseMs = ms(t);
    const [check] = await sql`
      select (select count(*) from public.support_agents a join public.agent_load l on l.agent_id = a.id where l.active_count > a.max_concurrent)::int as over,
             (select count(*) from public.agent_sessions where status = 'active')::int as active`;
    console.log(`assignment: ${n} of ${SESSIONS} waiting sessions to ${AGENTS} agents in ${fmt(assignMs)} ms = ${fmt(n / (assignMs / 1000))} assignments/s ` +
      `(baseline set-based update of ${SESSIONS} plain rows: ${fmt(baseMs)} ms; ratio ${(assignMs / baseMs).toFixed(1)}x); over capacity: ${check.over}`);
  }

  // 2. Queue -> assignment. Free capacity first.
  await sql`update public.conversations set status = 'resolved' where org_id = ${org} and status <> 'resolved'`;
  await sql`update public.agent_settings set assignment_mode = 'auto' where org_id = ${org}`;
  const convs = await sql`
    insert into public.conversations (org_id, channel, external_id) select ${org}, 'web', 'q:' || i from generate_series(1, 300) i returning id`;
  const convsManual = await sql`
    insert into public.conversations (org_id, channel, external_id) select ${manualOrg}, 'web', 'q:' || i from generate_series(1, 300) i returning id`;
  const timeQueue = async (rows) => {
    const xs = [];
    for (const { id } of rows) {
      const s = process.hrtime.bigint();
      await sql`update public.conversations set status = 'queued' where id = ${id}`;
      xs.push(ms(s));
    }
    return xs;
  };
  const auto = await timeQueue(convs);
  const manual = await timeQueue(convsManual);
  const [{ assigned }] = await sql`select count(*)::int as assigned from public.agent_sessions s join public.conversations c on c.id = s.conversation_id
                                    where c.external_id like 'q:%' and c.org_id = ${org} and s.status = 'active'`;
  console.log(`queue -> assignment (agent free): p50 ${fmt(quantile(auto, 0.5))} ms, p99 ${fmt(quantile(auto, 0.99))} ms, ${assigned}/300 assigned ` +
    `(baseline, queued without assignment: p50 ${fmt(quantile(manual, 0.5))} ms, p99 ${fmt(quantile(manual, 0.99))} ms)`);

  // 3. Customer message -> feed event, through the real function under Deno.
  if (PARTS.has("feed")) {
    const [supervisor] = await sql`update public.support_agents set role = 'supervisor' where id = (select id from public.support_agents where org_id = ${org} limit 1) returning user_id`;
    server = startDenoServer({ env: { PATH: process.env.PATH, HOME: process.env.HOME, DATABASE_URL: db.url, SUPABASE_JWT_SECRET: SECRET, LOG_LEVEL: "error" }, port: 0, onLine: () => {} });
    const base = await server.ready;
    const jwt = await new SignJWT({ role: "authenticated" }).setProtectedHeader({ alg: "HS256" }).setSubject(supervisor.user_id)
      .setIssuedAt().setExpirationTime("1h").sign(new TextEncoder().encode(SECRET));
    const res = await fetch(`${base}/functions/v1/agents/feed?access_token=${jwt}`);
    if (res.status !== 200) throw new Error(`feed answered ${res.status}`);
    const reader = res.body.getReader();
    const decoder = new TextDecoder();
    const waiters = new Map();
    let buffer = "";
    void (async () => {
      for (;;) {
        const { value, done } = await reader.read().catch(() => ({ done: true }));
        if (done) return;
        buffer += decoder.decode(value, { stream: true });
        let cut;
        while ((cut = buffer.indexOf("\n\n")) >= 0) {
          const block = buffer.slice(0, cut);
          buffer = buffer.slice(cut + 2);
          const data = block.split("\n").find((l) => l.startsWith("data: "));
          if (!block.includes("event: message") || !data) continue;
          const body = JSON.parse(data.slice(6)).body;
          waiters.get(body)?.();
        }
      }
    })();
    const target = convs[0].id;
    // Each message waits for its event (at most FEED_TIMEOUT_MS; a miss counts as that long).
    const measure = async (count, label) => {
      const latencies = [];
      const inserts = [];
      let missed = 0;
      for (let i = 0; i < count; i++) {
        const text = `bench ${label} ${i}`;
        let hit = false;
        const seen = new Promise((resolve) => waiters.set(text, () => { hit = true; resolve(); }));
        const s = process.hrtime.bigint();
        await sql`select public.chat_add_customer_message(${target}::uuid, ${text})`;
        inserts.push(ms(s));
        await Promise.race([seen, new Promise((r) => setTimeout(r, FEED_TIMEOUT_MS))]);
        latencies.push(ms(s));
        if (!hit) missed += 1;
        waiters.delete(text);
      }
      return { latencies, inserts, missed };
    };
    await new Promise((r) => setTimeout(r, 300));
    const plain = await measure(FEED_MESSAGES, "message");
    // The same while an unrelated write transaction stays open on the server (another developer's
    // migration, a maintenance batch): the feed must not wait for it.
    const other = postgres(db.url, { max: 1, onnotice: () => {} });
    let release;
    const held = new Promise((r) => (release = r));
    const holding = other.begin(async (tx) => {
      await tx`select pg_current_xact_id()`;
      await held;
    });
    await new Promise((r) => setTimeout(r, 100));
    const busy = await measure(Math.ceil(FEED_MESSAGES / 4), "busy");
    release();
    await holding;
    await other.end();
    await reader.cancel().catch(() => {});
    const { latencies, inserts } = plain;
    console.log(`customer message -> feed event: p50 ${fmt(quantile(latencies, 0.5))} ms, p99 ${fmt(quantile(latencies, 0.99))} ms over ${FEED_MESSAGES} messages, ${plain.missed} missed ` +
      `(the insert alone: p50 ${fmt(quantile(inserts, 0.5))} ms; the replaced dashboard's 3 s polling: 1,500 ms on average, 3,000 ms at worst; ` +
      `ratio p99 / 3,000 ms = ${(quantile(latencies, 0.99) / 3000).toFixed(3)})`);
    console.log(`  with a long write transaction open elsewhere on the server: p50 ${fmt(quantile(busy.latencies, 0.5))} ms, ` +
      `p99 ${fmt(quantile(busy.latencies, 0.99))} ms over ${busy.latencies.length} messages, ${busy.missed} missed`);
  }
} finally {
  if (server) {
    server.child.kill("SIGTERM");
    await server.exited;
  }
  await db.drop();
}
