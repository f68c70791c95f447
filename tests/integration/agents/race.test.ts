// Assignment under contention, on real Postgres: many assignment runs, manual accepts and agents
// coming online hit one queue at once. No session may be assigned twice and no agent may exceed
// max_concurrent. Also: automatic assignment order (priority, skill, least loaded) and expiry.
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../../support/database.ts";
import { ORG } from "./support.ts";

let db: TestDatabase;
const AUTO_ORG = "00000000-0000-4000-8000-00000000a001";

beforeAll(async () => {
  db = await createTestDatabase();
  await db.sql`insert into public.orgs (id, name) values (${AUTO_ORG}, 'Auto Org')`;
});
afterAll(async () => {
  await db?.drop();
});

async function makeAgents(n: number, capacity: number, extra: { skills?: string[]; role?: string } = {}) {
  const ids: { user: string; agent: string }[] = [];
  for (let i = 0; i < n; i++) {
    const user = crypto.randomUUID();
    await db.sql`insert into auth.users (id, email) values (${user}, ${`a${i}-${user}@example.com`})`;
    const [{ id }] = await db.sql`
      insert into public.support_agents (org_id, user_id, display_name, status, max_concurrent, skills, role)
      values (${AUTO_ORG}, ${user}, ${`Agent ${i}`}, 'online', ${capacity}, ${extra.skills ?? []}, ${extra.role ?? "agent"})
      returning id`;
    ids.push({ user, agent: id });
  }
  return ids;
}

async function queue(n: number, priority = 1, skill: string | null = null) {
  // Manual mode while filling, so that nothing is assigned before the race starts.
  await db.sql`insert into public.agent_settings (org_id, assignment_mode) values (${AUTO_ORG}, 'manual')
               on conflict (org_id) do update set assignment_mode = 'manual'`;
  const rows = await db.sql`
    insert into public.conversations (org_id, channel, external_id, status, priority, metadata)
    select ${AUTO_ORG}, 'web', 'race:' || gen_random_uuid(), 'queued', ${priority},
           case when ${skill}::text is null then '{}'::jsonb else jsonb_build_object('required_skill', ${skill}::text) end
    from generate_series(1, ${n}) returning id`;
  await db.sql`update public.agent_settings set assignment_mode = 'auto' where org_id = ${AUTO_ORG}`;
  return rows.map((r) => r.id as string);
}

describe("race", () => {
  it("never assigns a session twice nor exceeds a capacity when runs, accepts and status changes collide", async () => {
    const agents = await makeAgents(12, 3);
    await queue(400);
    const clients = Array.from({ length: 8 }, () => postgres(db.url, { max: 1, onnotice: () => {} }));
    const asAgent = async (c: postgres.Sql, user: string, fn: (tx: postgres.TransactionSql) => Promise<unknown>) =>
      c.begin(async (tx) => {
        await tx`select set_config('request.jwt.claims', ${JSON.stringify({ sub: user, role: "authenticated" })}, true),
                        set_config('role', 'authenticated', true)`;
        return fn(tx);
      }).catch((e) => (["SBC09"].includes(e.code) ? null : Promise.reject(e)));
    const waiting = await db.sql`select id from public.agent_sessions where org_id = ${AUTO_ORG} and status = 'waiting' order by random() limit 60`;
    const work: Promise<unknown>[] = [];
    for (let round = 0; round < 6; round++) {
      clients.forEach((c, i) => {
        if (i % 3 === 0) work.push(c`select public.assign_waiting_sessions(${AUTO_ORG}::uuid, now(), 50)`);
        else if (i % 3 === 1) {
          const a = agents[(round * 8 + i) % agents.length];
          const s = waiting[(round * 8 + i) % waiting.length];
          work.push(asAgent(c, a.user, (tx) => tx`select public.agent_accept(${s.id}::uuid)`));
        } else {
          const a = agents[(round + i) % agents.length];
          work.push(asAgent(c, a.user, (tx) => tx`select public.agent_set_status('online')`));
        }
      });
    }
    await Promise.all(work);
    await Promise.all(clients.map((c) => c.end()));

    const [check] = await db.sql`
      select
        (select count(*) from public.agent_sessions where org_id = ${AUTO_ORG} and status = 'active')::int as active,
        (select count(*) from (select s.id from public.agent_events e join public.agent_sessions s on s.id = e.session_id
                               where e.type = 'session.assigned' and s.org_id = ${AUTO_ORG}
                               group by s.id having count(*) > 1) x)::int as double_assigned,
        (select count(*) from public.support_agents a
           where a.org_id = ${AUTO_ORG} and (select count(*) from public.agent_sessions s
                                             where s.agent_id = a.id and s.status = 'active') > a.max_concurrent)::int as over_capacity,
        (select count(*) from public.agent_load l where l.org_id = ${AUTO_ORG} and l.active_count <>
           (select count(*) from public.agent_sessions s where s.agent_id = l.agent_id and s.status = 'active'))::int as load_drift,
        (select count(*) from public.conversations c join public.agent_sessions s on s.conversation_id = c.id
           where s.status = 'active' and s.org_id = ${AUTO_ORG} and (c.status <> 'agent' or c.assigned_agent_id <> s.agent_id))::int as inconsistent`;
    expect(check).toEqual({ active: 36, double_assigned: 0, over_capacity: 0, load_drift: 0, inconsistent: 0 });
  });
});

describe("automatic assignment", () => {
  it("assigns when a session is queued, by priority, to an agent with the skill, least loaded first", async () => {
    await db.sql`update public.conversations set status = 'resolved' where org_id = ${AUTO_ORG} and status <> 'resolved'`;
    await db.sql`delete from public.support_agents where org_id = ${AUTO_ORG}`;
    const [plumber] = await makeAgents(1, 2, { skills: ["plumbing"] });
    const [generalist] = await makeAgents(1, 1);
    const [low] = await queue(1, 0);
    const [high] = await queue(1, 3);
    const [pipe] = await queue(1, 1, "plumbing");
    await db.sql`select public.assign_waiting_sessions(${AUTO_ORG}::uuid, now(), 100)`;
    const rows = await db.sql`select conversation_id, agent_id, status from public.agent_sessions
                              where conversation_id in ${db.sql([low, high, pipe])}`;
    const by = Object.fromEntries(rows.map((r) => [r.conversation_id, r]));
    expect(by[high].status).toBe("active");
    expect(by[pipe].agent_id).toBe(plumber.agent);
    // Capacity 2 + 1: all three fit; the low-priority one went last, to whoever was left.
    expect(by[low].status).toBe("active");
    // Queued while an agent is free: assigned by the trigger at once.
    await db.sql`select public.agent_end_session_internal(s, 'agent_ended', null, now()) from public.agent_sessions s where s.conversation_id = ${high}`;
    const [fresh] = await queue(1, 1);
    await db.sql`update public.conversations set status = 'bot' where id = ${fresh}`;
    await db.sql`update public.conversations set status = 'queued' where id = ${fresh}`;
    const [s] = await db.sql`select status from public.agent_sessions where conversation_id = ${fresh} and status <> 'ended'`;
    expect(s.status).toBe("active");
  });

  it("expires a session 22 h after the customer's last message, hands back to the bot and queues the notice", async () => {
    const [conv] = await db.sql`
      insert into public.conversations (org_id, channel, external_id, metadata)
      values (${ORG}, 'whatsapp', 'exp:' || gen_random_uuid(), '{"wa_id": "14165550199", "phone_number_id": "100000000000001"}')
      returning id`.catch(async () => {
      await db.sql`insert into public.orgs (id, name) values (${ORG}, 'Demo')`;
      return db.sql`insert into public.conversations (org_id, channel, external_id, metadata)
        values (${ORG}, 'whatsapp', 'exp:' || gen_random_uuid(), '{"wa_id": "14165550199", "phone_number_id": "100000000000001"}') returning id`;
    });
    await db.sql`select public.chat_add_customer_message(${conv.id}::uuid, 'help')`;
    await db.sql`update public.conversations set status = 'queued' where id = ${conv.id}`;
    await db.sql`select public.expire_agent_sessions(now() + interval '21 hours')`;
    const [open] = await db.sql`select status from public.agent_sessions where conversation_id = ${conv.id}`;
    expect(open.status).toBe("waiting");
    await db.sql`select public.expire_agent_sessions(now() + interval '23 hours')`;
    const [s] = await db.sql`select status, ended_reason from public.agent_sessions where conversation_id = ${conv.id}`;
    expect(s).toEqual({ status: "ended", ended_reason: "expired" });
    const [c] = await db.sql`select status from public.conversations where id = ${conv.id}`;
    expect(c.status).toBe("bot");
    const [o] = await db.sql`select recipient, payload ->> 'text' as text from public.outbox where conversation_id = ${conv.id}`;
    expect(o.recipient).toBe("14165550199");
    expect(o.text).toMatch(/^Chat expired after 22 hours/);
  });
});
