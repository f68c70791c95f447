-- Set-based assignment: one pass per run instead of one statement chain per session. Replaces
-- assign_waiting_sessions() (20261130000400_human_agents.sql) and the row-level triggers behind it:
--   * assign_waiting_sessions() locks the candidate agents' agent_load rows, the waiting sessions and
--     their conversations with FOR UPDATE SKIP LOCKED (three statements), pairs sessions with agents'
--     free slots in memory (one statement per priority level and requirement), then writes all
--     pairs with one UPDATE of agent_sessions and one of conversations;
--   * agent_sessions' after-change trigger becomes two statement-level triggers with transition
--     tables (insert, update): agent_load, the feed's events and agent_daily_metrics are written once
--     per statement, per agent and per day, instead of once per session;
--   * conversations_agent_session fires only for the status changes it acts on (WHEN clauses), so an
--     assignment's 'queued' -> 'agent' no longer calls it per conversation.
--   * JIT off for these functions and the statement-level triggers they fire: the planner cannot
--     estimate transition tables and in-memory arrays, guesses hundreds of thousands of rows, and
--     then spends seconds compiling plans that run in milliseconds.
-- Why: 10,000 waiting sessions and 200 agents assigned at 285-365 per second (bench/agents.mjs),
-- against a target of 2,000; each assignment ran a per-session agent lookup, two UPDATEs and every
-- row-level trigger of both tables.

-- ---------------------------------------------------------------------------------------------
-- Trigger on agent_sessions, after insert or update (once per statement; two triggers, since a
-- trigger with transition tables has one event): keeps agent_load (an active session counts for
-- its agent), writes the feed's events, and adds to agent_daily_metrics (accepted, transferred,
-- ended with handling time, first responses, customer messages answered, agent messages) on the
-- organisation's day. Rows of agent_load and agent_daily_metrics are written in agent order, so
-- that two statements touching the same agents cannot deadlock here.
-- Who may call: the triggers. Changes agent_load, agent_events, agent_daily_metrics.
-- ---------------------------------------------------------------------------------------------
create or replace function public.agent_sessions_after_statement() returns trigger
language plpgsql security definer set search_path = '' set jit = off
as $$
begin
  if tg_op = 'INSERT' then
    -- A new session is waiting (the queue), or active (a transfer to an agent), or ended (never, in practice).
    with load as (
      update public.agent_load l set active_count = l.active_count + d.n, last_assigned_at = d.last_at
        from (select n.agent_id, count(*)::int as n, max(n.assigned_at) as last_at from new_sessions n
              where n.status = 'active' group by n.agent_id) d
        where l.agent_id = d.agent_id
      returning 1
    ), ev as (
      insert into public.agent_events (org_id, type, session_id, conversation_id, agent_id, payload)
      select n.org_id, case n.status when 'waiting' then 'session.queued' else 'session.assigned' end, n.id,
        n.conversation_id, case when n.status = 'waiting' then null else n.agent_id end,
        jsonb_strip_nulls(jsonb_build_object(
          'session_id', n.id, 'conversation_id', n.conversation_id, 'status', n.status, 'agent_id', n.agent_id,
          'previous_agent_id', null, 'priority', n.priority, 'required_skill', n.required_skill,
          'escalation_level', n.escalation_level, 'ended_reason', n.ended_reason, 'queued_at', n.queued_at,
          'expires_at', n.expires_at))
      from new_sessions n where n.status in ('waiting', 'active')
      order by n.queued_at, n.id
      returning 1
    )
    insert into public.agent_daily_metrics as d (org_id, agent_id, day, sessions_accepted)
    select n.org_id, n.agent_id, (now() at time zone coalesce(o.timezone, 'UTC'))::date, count(*)::int
    from new_sessions n left join public.orgs o on o.id = n.org_id
    where n.status = 'active' and n.agent_id is not null
    group by n.org_id, n.agent_id, 3
    order by n.agent_id
    on conflict (agent_id, day) do update set sessions_accepted = d.sessions_accepted + excluded.sessions_accepted;
    return null;
  end if;

  -- UPDATE: each changed session with its previous state.
  with ch as (
    select n.*, o.status as old_status, o.agent_id as old_agent, o.escalation_level as old_level,
      o.priority as old_priority, o.required_skill as old_skill, o.first_response_at as old_first_response_at,
      o.customer_messages as old_customer_messages, o.unanswered_messages as old_unanswered,
      o.agent_messages as old_agent_messages,
      o.status = 'active' as was_active, n.status = 'active' as is_active
    from new_sessions n join old_sessions o on o.id = n.id
  ), deltas as (
    select c.old_agent as agent_id, -1 as n, null::timestamptz as assigned_at from ch c
      where c.was_active and (not c.is_active or c.old_agent is distinct from c.agent_id)
    union all
    select c.agent_id, 1, c.assigned_at from ch c
      where c.is_active and (not c.was_active or c.old_agent is distinct from c.agent_id)
  ), load as (
    update public.agent_load l
      set active_count = l.active_count + d.n, last_assigned_at = coalesce(d.last_at, l.last_assigned_at)
      from (select x.agent_id, sum(x.n)::int as n, max(x.assigned_at) as last_at from deltas x
            where x.agent_id is not null group by x.agent_id) d
      where l.agent_id = d.agent_id
    returning 1
  ), typed as (
    select c.*, case
        when c.status = 'ended' and c.old_status <> 'ended' then 'session.ended'
        when c.is_active and (not c.was_active or c.old_agent is distinct from c.agent_id) then 'session.assigned'
        when c.escalation_level > c.old_level then 'session.escalated'
        when c.priority <> c.old_priority or c.required_skill is distinct from c.old_skill then 'session.updated'
      end as type,
      jsonb_strip_nulls(jsonb_build_object(
        'session_id', c.id, 'conversation_id', c.conversation_id, 'status', c.status, 'agent_id', c.agent_id,
        'previous_agent_id', case when c.old_agent is distinct from c.agent_id then c.old_agent end,
        'priority', c.priority, 'required_skill', c.required_skill, 'escalation_level', c.escalation_level,
        'ended_reason', c.ended_reason, 'queued_at', c.queued_at, 'expires_at', c.expires_at)) as payload
    from ch c
  ), ev as (
    insert into public.agent_events (org_id, type, session_id, conversation_id, agent_id, payload)
    select e.org_id, e.type, e.id, e.conversation_id, e.agent_id, e.payload
    from (
      select t.org_id, t.type, t.id, t.conversation_id,
        case when t.status = 'waiting' then null else t.agent_id end as agent_id, t.payload, t.queued_at, 0 as k
      from typed t where t.type is not null
      union all
      -- The previous agent of a reassigned session learns that it left them.
      select t.org_id, 'session.unassigned', t.id, t.conversation_id, t.old_agent, t.payload, t.queued_at, 1
      from typed t where t.type is not null and t.old_agent is not null and t.old_agent is distinct from t.agent_id
    ) e
    order by e.queued_at, e.id, e.k
    returning 1
  )
  insert into public.agent_daily_metrics as d (org_id, agent_id, day, sessions_accepted, sessions_transferred,
    sessions_ended, first_responses, first_response_seconds_total, handling_seconds_total,
    customer_messages_answered, agent_messages)
  select m.org_id, m.agent_id, m.day, sum(m.accepted)::int, sum(m.transferred)::int, sum(m.ended)::int,
    sum(m.first_responses)::int, sum(m.first_response_seconds), sum(m.handling_seconds),
    sum(m.answered)::int, sum(m.agent_messages)::int
  from (
    select c.org_id, c.agent_id, (now() at time zone coalesce(o.timezone, 'UTC'))::date as day,
      (c.is_active and not coalesce(c.was_active and c.old_agent = c.agent_id, false))::int as accepted,
      (c.status = 'ended' and c.ended_reason = 'transferred' and c.old_status <> 'ended')::int as transferred,
      (c.status = 'ended' and c.old_status <> 'ended' and c.assigned_at is not null)::int as ended,
      (c.first_response_at is not null and c.old_first_response_at is null)::int as first_responses,
      case when c.first_response_at is not null and c.old_first_response_at is null
        then greatest(0, extract(epoch from c.first_response_at - c.assigned_at)) else 0 end as first_response_seconds,
      case when c.status = 'ended' and c.old_status <> 'ended' and c.assigned_at is not null
        then greatest(0, extract(epoch from c.ended_at - c.assigned_at)) else 0 end as handling_seconds,
      greatest(0, (c.customer_messages - c.unanswered_messages) - (c.old_customer_messages - c.old_unanswered)) as answered,
      greatest(0, c.agent_messages - c.old_agent_messages) as agent_messages
    from ch c left join public.orgs o on o.id = c.org_id
    where c.agent_id is not null and (c.is_active or c.was_active or c.status = 'ended')
  ) m
  group by m.org_id, m.agent_id, m.day
  having sum(m.accepted) + sum(m.transferred) + sum(m.ended) + sum(m.first_responses) + sum(m.answered)
         + sum(m.agent_messages) > 0 or sum(m.handling_seconds) > 0
  order by m.agent_id
  on conflict (agent_id, day) do update set
    sessions_accepted = d.sessions_accepted + excluded.sessions_accepted,
    sessions_transferred = d.sessions_transferred + excluded.sessions_transferred,
    sessions_ended = d.sessions_ended + excluded.sessions_ended,
    first_responses = d.first_responses + excluded.first_responses,
    first_response_seconds_total = d.first_response_seconds_total + excluded.first_response_seconds_total,
    handling_seconds_total = d.handling_seconds_total + excluded.handling_seconds_total,
    customer_messages_answered = d.customer_messages_answered + excluded.customer_messages_answered,
    agent_messages = d.agent_messages + excluded.agent_messages;
  return null;
end
$$;
revoke execute on function public.agent_sessions_after_statement() from public, anon, authenticated, service_role;

drop trigger if exists agent_sessions_after_change on public.agent_sessions;
drop function if exists public.agent_sessions_after_change();
create trigger agent_sessions_after_insert after insert on public.agent_sessions
  referencing new table as new_sessions
  for each statement execute function public.agent_sessions_after_statement();
create trigger agent_sessions_after_update after update on public.agent_sessions
  referencing old table as old_sessions new table as new_sessions
  for each statement execute function public.agent_sessions_after_statement();

-- conversations_agent_session() (20261130000400_human_agents.sql) acts on entering 'queued' and on
-- leaving 'queued'/'agent' for 'bot'/'resolved'; the WHEN clauses keep every other write (an
-- assignment's 'queued' -> 'agent', message counters) from calling it at all.
drop trigger if exists conversations_agent_session on public.conversations;
create trigger conversations_agent_session_insert after insert on public.conversations
  for each row when (new.status = 'queued') execute function public.conversations_agent_session();
create trigger conversations_agent_session_update after update of status on public.conversations
  for each row when (old.status is distinct from new.status
                     and (new.status = 'queued'
                          or (old.status in ('queued', 'agent') and new.status in ('bot', 'resolved'))))
  execute function public.conversations_agent_session();

-- ---------------------------------------------------------------------------------------------
-- Assigns waiting sessions of p_org (all, or only p_session) to agents, at most p_limit sessions
-- examined in queue order (priority descending, then waiting time). The candidates are agents who
-- are online, on shift at p_now in their own timezone and have spare capacity (p_agent: only that
-- agent, who just came online or freed capacity). A session's eligible agents have its required
-- skill (none required: any) and are supervisors when it was escalated to them.
--
-- The pairing, in one pass: each candidate agent offers its free slots (load after assignment
-- 1, 2, ... up to max_concurrent); slots are taken least loaded first, then longest since the last
-- assignment (an agent already given a session in this run counts as assigned at p_now), then by
-- agent id. Sessions are matched to slots per priority level, highest first; within a level,
-- sessions needing a skill or a supervisor go before the others (fewer agents can take them), and
-- within each group the longest waiting first. Each step is one statement over in-memory arrays.
--
-- The races it prevents: two runs (or a run and a manual accept) assigning one session twice, and
-- two runs (or a run and an accept or transfer) filling one agent past max_concurrent. The agents'
-- agent_load rows, the sessions and their conversations are locked with FOR UPDATE SKIP LOCKED
-- before anything is counted: a row another transaction holds is left to it this time (a busy
-- agent offers no slots, a held session is not examined), and the counts read under the lock
-- cannot change before commit. Never waits on those locks, so it cannot deadlock with accepts,
-- replies or messages. Returns the number of sessions assigned.
-- Who may call: the service role, the triggers and API functions. Changes agent_sessions,
-- conversations, and by trigger agent_load, agent_events, agent_daily_metrics.
-- ---------------------------------------------------------------------------------------------
create or replace function public.assign_waiting_sessions(
  p_org uuid, p_now timestamptz default now(), p_limit int default 1000,
  p_session uuid default null, p_agent uuid default null)
returns int
language plpgsql security definer set search_path = '' set jit = off
as $$
declare
  -- Candidate agents, in agent id order: id, load when locked, slots taken in this run, capacity, last assignment.
  v_agent uuid[];
  v_base int[];
  v_used int[];
  v_max int[];
  v_last timestamptz[];
  -- Examined sessions, in queue order: id, priority, required skill, supervisors only.
  v_sid uuid[];
  v_prio smallint[];
  v_skill text[];
  v_sup boolean[];
  v_group record;
  v_pair_sid uuid[] := '{}';
  v_pair_agent uuid[] := '{}';
  v_new_sid uuid[];
  v_new_agent uuid[];
  v_free int;
  v_n int;
begin
  if p_limit is null or p_limit <= 0 then
    return 0;
  end if;

  -- 1. The agents, locked: online, on shift, with room (counted under the lock).
  select array_agg(x.agent_id order by x.agent_id), array_agg(x.active_count order by x.agent_id),
         array_agg(x.max_concurrent order by x.agent_id), array_agg(x.last_assigned_at order by x.agent_id),
         sum(x.max_concurrent - x.active_count)
    into v_agent, v_base, v_max, v_last, v_free
    from (select l.agent_id, l.active_count, a.max_concurrent, l.last_assigned_at
          from public.agent_load l join public.support_agents a on a.id = l.agent_id
          where l.org_id = p_org and a.org_id = p_org and a.status = 'online'
            and l.active_count < a.max_concurrent and (p_agent is null or a.id = p_agent)
            and public.agent_on_shift(a.shifts, a.timezone, p_now)
          for update of l skip locked) x;
  if v_agent is null then
    return 0;
  end if;
  v_used := array_fill(0, array[cardinality(v_agent)]);

  -- 2. The sessions, locked, then their conversations (a message insert holds the conversation
  -- before it wants the session: both SKIP LOCKED, so the opposite order here never waits). A
  -- session whose conversation is held is left for the next run.
  with s as (
    select s.id, s.conversation_id, s.priority, s.required_skill, s.escalation_level, s.queued_at
    from public.agent_sessions s
    where s.org_id = p_org and s.status = 'waiting' and (p_session is null or s.id = p_session)
    order by s.priority desc, s.queued_at, s.id
    limit p_limit
    for update of s skip locked
  ), c as (
    select c.id from public.conversations c where c.id in (select s.conversation_id from s)
    for update of c skip locked
  )
  select array_agg(s.id order by s.priority desc, s.queued_at, s.id),
         array_agg(s.priority order by s.priority desc, s.queued_at, s.id),
         array_agg(s.required_skill order by s.priority desc, s.queued_at, s.id),
         array_agg(s.escalation_level >= 2 order by s.priority desc, s.queued_at, s.id)
    into v_sid, v_prio, v_skill, v_sup
    from s join c on c.id = s.conversation_id;
  if v_sid is null then
    return 0;
  end if;

  -- 3. Pairing, per priority level and requirement (see the header for the order).
  for v_group in
    select x.prio, x.skill, x.sup, count(*)::int as n
    from unnest(v_prio, v_skill, v_sup) with ordinality x(prio, skill, sup, ord)
    group by x.prio, x.skill, x.sup
    order by x.prio desc, (x.skill is null and not x.sup), min(x.ord)
  loop
    exit when v_free <= 0;
    with s as (
      select x.sid, row_number() over (order by x.ord) as rn
      from unnest(v_sid, v_prio, v_skill, v_sup) with ordinality x(sid, prio, skill, sup, ord)
      where x.prio = v_group.prio and x.skill is not distinct from v_group.skill and x.sup = v_group.sup
    ), slot as (
      select x.agent, row_number() over (
          order by k, case when k = x.base + 1 then x.last else p_now end nulls first, x.agent) as rn
      from unnest(v_agent, v_base, v_used, v_max, v_last) x(agent, base, used, cap, last)
      join public.support_agents a on a.id = x.agent
      cross join lateral generate_series(x.base + x.used + 1, least(x.cap, x.base + x.used + v_group.n)) k
      where (v_group.skill is null or v_group.skill = any (a.skills))
        and (not v_group.sup or a.role = 'supervisor')
    )
    select array_agg(s.sid order by s.rn), array_agg(slot.agent order by s.rn)
      into v_new_sid, v_new_agent
      from s join slot on slot.rn = s.rn;
    continue when v_new_sid is null;
    v_pair_sid := v_pair_sid || v_new_sid;
    v_pair_agent := v_pair_agent || v_new_agent;
    v_free := v_free - cardinality(v_new_sid);
    select array_agg(x.used + coalesce(t.n, 0) order by x.ord) into v_used
      from unnest(v_agent, v_used) with ordinality x(agent, used, ord)
      left join (select y.agent, count(*)::int as n from unnest(v_new_agent) y(agent) group by y.agent) t
        on t.agent = x.agent;
  end loop;

  v_n := cardinality(v_pair_sid);
  if v_n = 0 then
    return 0;
  end if;

  -- 4. The writes: one statement per table (their statement-level triggers do the rest).
  update public.agent_sessions s
    set status = 'active', agent_id = p.agent, assigned_at = p_now, assigned_by = 'auto'
    from unnest(v_pair_sid, v_pair_agent) p(sid, agent)
    where s.id = p.sid;
  update public.conversations c set status = 'agent', assigned_agent_id = p.agent
    from unnest(v_pair_sid, v_pair_agent) p(sid, agent)
    join public.agent_sessions s on s.id = p.sid
    where c.id = s.conversation_id;
  return v_n;
end
$$;
revoke execute on function public.assign_waiting_sessions(uuid, timestamptz, int, uuid, uuid) from public, anon, authenticated;
grant execute on function public.assign_waiting_sessions(uuid, timestamptz, int, uuid, uuid) to service_role;

-- The statement-level triggers that an assignment, a message or a hand-over fires: same reason as
-- above (JIT compilation of plans over transition tables cost more than the work itself).
alter function public.rollup_conversation_metrics() set jit = off;
alter function public.update_conversation_metrics() set jit = off;
alter function public.messages_update_agent_session() set jit = off;
alter function public.agent_events_notify() set jit = off;
