-- Human agents: the people who take over when the bot hands a conversation on. Adds:
--   * agent_settings: per organisation, automatic or manual assignment, how long a live session
--     lasts after the customer's last message (22 h by default), when a waiting session escalates,
--     and the notice sent when a session expires (a missing row means the defaults);
--   * support_agents: who may answer (the Supabase Auth user), their role, status, skills, capacity,
--     timezone and weekly shifts; agent_load: each agent's open-session count, kept apart so that
--     the hot counter neither fills the audit trail nor contends with profile edits;
--   * agent_sessions: one per hand-over (waiting -> active -> ended), created by a trigger whenever a
--     conversation enters 'queued', so every path that queues (bot, button, API, SQL console) makes
--     exactly one; messages stay in `messages`, sessions keep their counters after messages are pruned;
--   * agent_events: an ordered log of what the agents' live feed shows (queue changes, assignments,
--     messages), announced with NOTIFY so that the feed is pushed, and read back by position so that
--     a client reconnecting after the edge's wall-clock limit misses nothing;
--   * agent_daily_metrics: a per-agent daily rollup kept by triggers;
--   * SQL functions for assignment (FOR UPDATE SKIP LOCKED), accept, transfer, escalation, end, reply
--     and expiry; the API calls them as the signed-in agent (role authenticated with the JWT's claims
--     on the session), so each checks the caller itself and RLS decides what reads return.
-- Why in SQL: assignment must be race-free across isolates, and expiry and escalation are time-based
-- maintenance work (functions taking p_now, registered in maintenance_tasks).
--
-- Lock order, everywhere in this file: conversation, then session, then agent_load. Message inserts
-- follow it too (their conversation trigger runs before messages_update_session). Assignment runs
-- take every lock with SKIP LOCKED, so they never wait and cannot be part of a deadlock.

-- ---------------------------------------------------------------------------------------------
-- Helpers
-- ---------------------------------------------------------------------------------------------

-- True when p_tz is a time zone Postgres knows. Who may call: anyone. Changes nothing.
create or replace function public.is_valid_timezone(p_tz text) returns boolean
language plpgsql stable
set search_path = ''
as $$
begin
  if p_tz is null or length(p_tz) > 64 then
    return false;
  end if;
  perform now() at time zone p_tz;
  return true;
exception when others then
  return false;
end
$$;
grant execute on function public.is_valid_timezone(text) to anon, authenticated, service_role;

-- True when p_hours has the weekly format of business_hours: {"mon": [["08:00","18:00"], ...], ...},
-- keys mon..sun, times HH:MM (24:00 allowed as an end). Who may call: anyone. Changes nothing.
create or replace function public.is_weekly_hours(p_hours jsonb) returns boolean
language sql immutable
set search_path = ''
as $$
  select jsonb_typeof(p_hours) = 'object'
    and not exists (select 1 from jsonb_object_keys(p_hours) k where k not in ('mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'))
    and not exists (
      select 1 from jsonb_each(p_hours) d
      where jsonb_typeof(d.value) <> 'array'
         or exists (select 1 from jsonb_array_elements(d.value) r
                    where jsonb_typeof(r) <> 'array' or jsonb_array_length(r) <> 2
                       or not (r ->> 0 ~ '^([01][0-9]|2[0-3]):[0-5][0-9]$')
                       or not (r ->> 1 ~ '^(([01][0-9]|2[0-3]):[0-5][0-9]|24:00)$')))
$$;
grant execute on function public.is_weekly_hours(jsonb) to anon, authenticated, service_role;

-- Is an agent with weekly p_shifts in zone p_tz on shift at p_at? Null shifts mean no restriction
-- (always on shift); a missing or empty day is off. A range that ends at or before it starts runs
-- past midnight into the next day ("22:00"-"06:00"), as business_hours do. Evaluated in the agent's
-- own zone, so daylight-saving changes follow the agent's clock.
-- Who may call: anyone. Changes nothing.
create or replace function public.agent_on_shift(p_shifts jsonb, p_tz text, p_at timestamptz) returns boolean
language plpgsql stable
set search_path = ''
as $$
declare
  v_local timestamp;
  v_min int;
  v_day text;
  v_prev text;
begin
  if p_shifts is null then
    return true;
  end if;
  v_local := p_at at time zone p_tz;
  v_min := extract(hour from v_local)::int * 60 + extract(minute from v_local)::int;
  v_day := lower(to_char(v_local, 'Dy'));
  v_prev := lower(to_char(v_local - interval '1 day', 'Dy'));
  return exists (
      select 1 from jsonb_array_elements(coalesce(p_shifts -> v_day, '[]'::jsonb)) r,
        lateral (select split_part(r ->> 0, ':', 1)::int * 60 + split_part(r ->> 0, ':', 2)::int as s,
                        split_part(r ->> 1, ':', 1)::int * 60 + split_part(r ->> 1, ':', 2)::int as e) t
      where (t.e > t.s and v_min >= t.s and v_min < t.e) or (t.e <= t.s and v_min >= t.s))
    or exists (
      select 1 from jsonb_array_elements(coalesce(p_shifts -> v_prev, '[]'::jsonb)) r,
        lateral (select split_part(r ->> 0, ':', 1)::int * 60 + split_part(r ->> 0, ':', 2)::int as s,
                        split_part(r ->> 1, ':', 1)::int * 60 + split_part(r ->> 1, ':', 2)::int as e) t
      where t.e <= t.s and v_min < t.e);
end
$$;
grant execute on function public.agent_on_shift(jsonb, text, timestamptz) to authenticated, service_role;

-- ---------------------------------------------------------------------------------------------
-- Tables
-- ---------------------------------------------------------------------------------------------
create table public.agent_settings (
  org_id uuid primary key references public.orgs (id) on delete cascade,
  -- 'auto': waiting sessions are assigned by the database; 'manual': agents accept from the queue.
  assignment_mode text not null default 'auto',
  -- A live session ends this long after the customer's last message (WhatsApp's free-form window is 24 h).
  session_ttl interval not null default interval '22 hours',
  -- A session waiting longer than this gets one priority step up ...
  escalate_after interval not null default interval '5 minutes',
  -- ... and longer than this is routed to supervisors only.
  supervisor_after interval not null default interval '15 minutes',
  -- Sent to the customer when a session expires; {hours} becomes the session's lifetime in hours.
  expiry_notice text not null default 'Chat expired after {hours} hours. Write again any time and our assistant will help you.',
  updated_at timestamptz not null default now(),
  constraint agent_settings_mode_valid check (assignment_mode in ('auto', 'manual')),
  constraint agent_settings_ttl_bounds check (session_ttl between interval '1 minute' and interval '30 days'),
  constraint agent_settings_escalation_order check (escalate_after > interval '0' and supervisor_after >= escalate_after),
  constraint agent_settings_notice_length check (length(btrim(expiry_notice)) between 1 and 1000)
);
comment on table public.agent_settings is
  'Per-organisation human-agent settings; a missing row means the defaults of each column.';
create trigger agent_settings_touch before update on public.agent_settings
  for each row execute function public.touch_updated_at();

create table public.support_agents (
  id uuid primary key default gen_random_uuid(),
  org_id uuid not null references public.orgs (id) on delete cascade,
  -- The Supabase Auth user (the JWT's sub).
  user_id uuid not null references auth.users (id) on delete cascade,
  display_name text not null,
  email text,
  role text not null default 'agent',
  status text not null default 'offline',
  skills text[] not null default '{}',
  max_concurrent int not null default 3,
  timezone text not null default 'UTC',
  -- Weekly hours like business_hours, in the agent's timezone; null = no shift restriction.
  shifts jsonb,
  status_changed_at timestamptz not null default now(),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint support_agents_role_valid check (role in ('agent', 'supervisor')),
  constraint support_agents_status_valid check (status in ('online', 'away', 'offline')),
  constraint support_agents_capacity_bounds check (max_concurrent between 1 and 1000),
  constraint support_agents_name_present check (length(btrim(display_name)) between 1 and 100),
  constraint support_agents_timezone_valid check (public.is_valid_timezone(timezone)),
  constraint support_agents_shifts_format check (shifts is null or public.is_weekly_hours(shifts)),
  constraint support_agents_skills_format check (array_position(skills, null) is null),
  -- A user is an agent of one organisation: the token alone says which one the agent acts in.
  constraint support_agents_user_unique unique (user_id),
  constraint support_agents_id_org_unique unique (id, org_id)
);
comment on table public.support_agents is
  'People who answer handed-over conversations: role, status, skills, capacity, timezone and shifts.';
comment on constraint support_agents_user_unique on public.support_agents is
  'One agent row per Auth user, so a token identifies the agent and the organisation without ambiguity.';
create index support_agents_org_idx on public.support_agents (org_id, status);
create trigger support_agents_touch before update on public.support_agents
  for each row execute function public.touch_updated_at();

-- Hot per-agent counters, written in the same transaction as each session change.
create table public.agent_load (
  agent_id uuid primary key references public.support_agents (id) on delete cascade,
  org_id uuid not null,
  active_count int not null default 0,
  last_assigned_at timestamptz,
  -- Never negative: a release without an assignment would be a bug.
  constraint agent_load_nonnegative check (active_count >= 0)
);
comment on table public.agent_load is
  'Open (active) sessions per agent and when the last one was assigned; the capacity check locks this row.';
create index agent_load_org_idx on public.agent_load (org_id);

create table public.agent_sessions (
  id uuid primary key default gen_random_uuid(),
  org_id uuid not null,
  conversation_id uuid not null,
  agent_id uuid references public.support_agents (id) on delete set null,
  status text not null default 'waiting',
  priority smallint not null default 1,
  required_skill text,
  -- 0 none, 1 priority raised, 2 routed to supervisors.
  escalation_level smallint not null default 0,
  summary text,
  -- Who assigned it: 'auto' (the database), or the agent id of whoever accepted or assigned it.
  assigned_by text,
  ended_reason text,
  -- The agent who ended it (null when the customer or the system did).
  ended_by uuid,
  -- The session this one continues after a transfer.
  transferred_from uuid references public.agent_sessions (id) on delete set null,
  queued_at timestamptz not null default now(),
  assigned_at timestamptz,
  first_response_at timestamptz,
  escalated_at timestamptz,
  ended_at timestamptz,
  last_customer_message_at timestamptz,
  expires_at timestamptz not null,
  customer_messages int not null default 0,
  agent_messages int not null default 0,
  -- Customer messages since the agent last wrote; added to the rollup when the agent answers.
  unanswered_messages int not null default 0,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint agent_sessions_status_valid check (status in ('waiting', 'active', 'ended')),
  constraint agent_sessions_reason_valid
    check (ended_reason in ('agent_ended', 'customer_ended', 'expired', 'transferred', 'closed')),
  constraint agent_sessions_priority_valid check (priority between 0 and 3),
  constraint agent_sessions_escalation_valid check (escalation_level between 0 and 2),
  -- An active session has an agent; an ended one has a reason and an end time; a waiting one has neither.
  constraint agent_sessions_state_consistent check (
    (status = 'waiting' and ended_at is null and ended_reason is null)
    or (status = 'active' and agent_id is not null and assigned_at is not null and ended_at is null and ended_reason is null)
    or (status = 'ended' and ended_at is not null and ended_reason is not null)),
  constraint agent_sessions_counts_nonnegative check (least(customer_messages, agent_messages, unanswered_messages) >= 0),
  constraint agent_sessions_id_org_unique unique (id, org_id),
  foreign key (conversation_id, org_id) references public.conversations (id, org_id) on delete cascade
);
comment on table public.agent_sessions is
  'One row per hand-over: waiting -> active -> ended, with who ended it and why. Kept after messages are pruned.';
-- At most one open session per conversation: a second hand-over of a queued conversation finds the first.
create unique index agent_sessions_one_open_per_conversation on public.agent_sessions (conversation_id)
  where status in ('waiting', 'active');
-- The queue: waiting sessions by organisation, priority, then waiting time.
create index agent_sessions_queue_idx on public.agent_sessions (org_id, priority desc, queued_at, id)
  where status = 'waiting';
create index agent_sessions_agent_idx on public.agent_sessions (agent_id, status) where agent_id is not null;
create index agent_sessions_expiry_idx on public.agent_sessions (expires_at) where status in ('waiting', 'active');
create index agent_sessions_history_idx on public.agent_sessions (org_id, created_at desc);
create trigger agent_sessions_touch before update on public.agent_sessions
  for each row execute function public.touch_updated_at();

alter table public.conversations
  add constraint conversations_assigned_agent_fk foreign key (assigned_agent_id)
  references public.support_agents (id) on delete set null;

create table public.agent_events (
  id bigint generated always as identity primary key,
  org_id uuid not null references public.orgs (id) on delete cascade,
  -- The writing transaction. Readers deliver only events of transactions older than every one still
  -- running (pg_snapshot_xmin), in (txid, id) order: an event committed late can never slip behind a
  -- client's position, which an id-only cursor would allow.
  txid xid8 not null default pg_current_xact_id(),
  type text not null,
  session_id uuid,
  conversation_id uuid,
  -- The agent the event concerns (the session's agent); null for the queue, which every agent sees.
  agent_id uuid,
  payload jsonb not null default '{}'::jsonb,
  created_at timestamptz not null default now(),
  constraint agent_events_type_format check (type ~ '^[a-z][a-z_.]*$')
);
comment on table public.agent_events is
  'What the agents'' live feed streams, in order. Pruned after 7 days by cleanup_old_agent_events().';
create index agent_events_feed_idx on public.agent_events (org_id, txid, id);
create index agent_events_created_idx on public.agent_events (created_at);

create table public.agent_daily_metrics (
  org_id uuid not null references public.orgs (id) on delete cascade,
  agent_id uuid not null references public.support_agents (id) on delete cascade,
  -- In the organisation's timezone.
  day date not null,
  sessions_accepted int not null default 0,
  sessions_transferred int not null default 0,
  sessions_ended int not null default 0,
  first_responses int not null default 0,
  first_response_seconds_total double precision not null default 0,
  handling_seconds_total double precision not null default 0,
  customer_messages_answered int not null default 0,
  agent_messages int not null default 0,
  primary key (agent_id, day)
);
comment on table public.agent_daily_metrics is
  'Per-agent daily rollup kept by triggers; averages are totals divided by counts.';
create index agent_daily_metrics_org_day_idx on public.agent_daily_metrics (org_id, day);

-- ---------------------------------------------------------------------------------------------
-- Who is calling: the agent row of the JWT's user (auth.uid()). security definer so that policies
-- can use them without recursing into support_agents' own policy.
-- Who may call: anyone (they return null for a caller who is not an agent). Change nothing.
-- ---------------------------------------------------------------------------------------------
create or replace function public.current_agent_id() returns uuid
language sql stable security definer set search_path = ''
as $$ select a.id from public.support_agents a where a.user_id = auth.uid() $$;
create or replace function public.current_agent_org_id() returns uuid
language sql stable security definer set search_path = ''
as $$ select a.org_id from public.support_agents a where a.user_id = auth.uid() $$;
create or replace function public.current_agent_is_supervisor() returns boolean
language sql stable security definer set search_path = ''
as $$ select coalesce((select a.role = 'supervisor' from public.support_agents a where a.user_id = auth.uid()), false) $$;
revoke execute on function public.current_agent_id(), public.current_agent_org_id(), public.current_agent_is_supervisor() from public;
grant execute on function public.current_agent_id(), public.current_agent_org_id(), public.current_agent_is_supervisor()
  to authenticated, service_role;

-- The caller as an agent, or SQLSTATE SBU01 (the API answers 401). Internal to the API functions.
create or replace function public.agent_require_caller() returns public.support_agents
language plpgsql stable security definer set search_path = ''
as $$
declare
  v public.support_agents;
begin
  select * into v from public.support_agents a where a.user_id = auth.uid();
  if not found then
    raise exception using errcode = 'SBU01', message = 'UNAUTHORIZED', detail = 'the signed-in user is not an agent';
  end if;
  return v;
end
$$;
revoke execute on function public.agent_require_caller() from public, anon;
grant execute on function public.agent_require_caller() to authenticated, service_role;

-- Raises the API's errors with stable SQLSTATEs: SBF03 FORBIDDEN, SBN04 NOT_FOUND, SBC09 CONFLICT,
-- SBB00 BAD_REQUEST. The detail is for people. Who may call: the functions below. Changes nothing.
create or replace function public.agent_fail(p_code text, p_detail text) returns void
language plpgsql immutable set search_path = ''
as $$
begin
  raise exception using
    errcode = case p_code when 'FORBIDDEN' then 'SBF03' when 'NOT_FOUND' then 'SBN04'
                          when 'CONFLICT' then 'SBC09' else 'SBB00' end,
    message = p_code, detail = p_detail;
end
$$;
grant execute on function public.agent_fail(text, text) to authenticated, service_role;

-- The organisation's settings with defaults filled in. Who may call: the functions below, service role.
create or replace function public.agent_settings_for(p_org uuid) returns public.agent_settings
language sql stable security definer set search_path = ''
as $$
  select coalesce((select s from public.agent_settings s where s.org_id = p_org),
                  row(p_org, 'auto', interval '22 hours', interval '5 minutes', interval '15 minutes',
                      'Chat expired after {hours} hours. Write again any time and our assistant will help you.',
                      now())::public.agent_settings)
$$;
revoke execute on function public.agent_settings_for(uuid) from public, anon;
grant execute on function public.agent_settings_for(uuid) to authenticated, service_role;

-- ---------------------------------------------------------------------------------------------
-- Triggers
-- ---------------------------------------------------------------------------------------------

-- Trigger on support_agents, after insert: its agent_load row. Who may call: the trigger. Changes agent_load.
create or replace function public.support_agents_create_load() returns trigger
language plpgsql security definer set search_path = ''
as $$
begin
  insert into public.agent_load (agent_id, org_id) values (new.id, new.org_id) on conflict (agent_id) do nothing;
  return null;
end
$$;
revoke execute on function public.support_agents_create_load() from public, anon, authenticated, service_role;
create trigger support_agents_load after insert on public.support_agents
  for each row execute function public.support_agents_create_load();

-- Trigger on support_agents, before update of status: status_changed_at. Who may call: the trigger.
create or replace function public.support_agents_status_stamp() returns trigger
language plpgsql set search_path = ''
as $$
begin
  new.status_changed_at := now();
  return new;
end
$$;
revoke execute on function public.support_agents_status_stamp() from public, anon, authenticated, service_role;
create trigger support_agents_status before update of status on public.support_agents
  for each row when (old.status is distinct from new.status) execute function public.support_agents_status_stamp();

-- Trigger on conversations, after insert or update of status:
--   * entering 'queued': the waiting session (priority and summary of the conversation, the skill in
--     metadata.required_skill), once: the unique index keeps one open session per conversation, and
--     an open one is left as it is. In 'auto' organisations the new session is assigned at once if an
--     agent is free;
--   * leaving 'queued'/'agent' for 'bot' or 'resolved' by any other path (the abandonment sweep, a
--     console update): the open session ends with reason 'closed'. The functions below end their
--     session before they move the conversation, so they find nothing here.
-- Who may call: the trigger. Changes agent_sessions (and what assignment changes).
create or replace function public.conversations_agent_session() returns trigger
language plpgsql security definer set search_path = ''
as $$
declare
  v_settings public.agent_settings;
  v_session uuid;
begin
  if new.status = 'queued' and (tg_op = 'INSERT' or old.status is distinct from 'queued') then
    v_settings := public.agent_settings_for(new.org_id);
    insert into public.agent_sessions (org_id, conversation_id, priority, required_skill, summary, expires_at,
                                       last_customer_message_at)
    values (new.org_id, new.id, new.priority, nullif(btrim(new.metadata ->> 'required_skill'), ''), new.summary,
            coalesce(new.last_customer_message_at, now()) + v_settings.session_ttl, new.last_customer_message_at)
    on conflict (conversation_id) where status in ('waiting', 'active') do nothing
    returning id into v_session;
    if v_session is not null and v_settings.assignment_mode = 'auto' then
      perform public.assign_waiting_sessions(new.org_id, now(), 1, v_session, null);
    end if;
  elsif tg_op = 'UPDATE' and old.status in ('queued', 'agent') and new.status in ('bot', 'resolved') then
    update public.agent_sessions s set status = 'ended', ended_reason = 'closed', ended_at = now()
      where s.conversation_id = new.id and s.status in ('waiting', 'active');
  end if;
  return null;
end
$$;
revoke execute on function public.conversations_agent_session() from public, anon, authenticated, service_role;
create trigger conversations_agent_session after insert or update of status on public.conversations
  for each row execute function public.conversations_agent_session();

-- Trigger on agent_sessions, after insert or update: keeps agent_load (an active session counts for
-- its agent), writes the feed's events, and adds to agent_daily_metrics (accepted, transferred,
-- ended with handling time, first responses, customer messages answered). Row-level: sessions
-- change one at a time. Who may call: the trigger. Changes agent_load, agent_events, agent_daily_metrics.
create or replace function public.agent_sessions_after_change() returns trigger
language plpgsql security definer set search_path = ''
as $$
declare
  v_was_active boolean := tg_op = 'UPDATE' and old.status = 'active';
  v_is_active boolean := new.status = 'active';
  v_old_agent uuid := case when tg_op = 'UPDATE' then old.agent_id end;
  v_day date;
  v_type text;
  v_payload jsonb;
begin
  -- Load.
  if v_was_active and (not v_is_active or v_old_agent is distinct from new.agent_id) then
    update public.agent_load l set active_count = l.active_count - 1 where l.agent_id = v_old_agent;
  end if;
  if v_is_active and (not v_was_active or v_old_agent is distinct from new.agent_id) then
    update public.agent_load l set active_count = l.active_count + 1, last_assigned_at = new.assigned_at
      where l.agent_id = new.agent_id;
  end if;

  -- Events.
  v_type := case
    when tg_op = 'INSERT' and new.status = 'waiting' then 'session.queued'
    when tg_op = 'INSERT' and new.status = 'active' then 'session.assigned'
    when tg_op = 'INSERT' then null
    when new.status = 'ended' and old.status <> 'ended' then 'session.ended'
    when new.status = 'active' and (old.status <> 'active' or old.agent_id is distinct from new.agent_id) then 'session.assigned'
    when new.escalation_level > old.escalation_level then 'session.escalated'
    when new.priority <> old.priority or new.required_skill is distinct from old.required_skill then 'session.updated'
    else null end;
  if v_type is not null then
    v_payload := jsonb_strip_nulls(jsonb_build_object(
      'session_id', new.id, 'conversation_id', new.conversation_id, 'status', new.status, 'agent_id', new.agent_id,
      'previous_agent_id', case when v_old_agent is distinct from new.agent_id then v_old_agent end,
      'priority', new.priority, 'required_skill', new.required_skill, 'escalation_level', new.escalation_level,
      'ended_reason', new.ended_reason, 'queued_at', new.queued_at, 'expires_at', new.expires_at));
    insert into public.agent_events (org_id, type, session_id, conversation_id, agent_id, payload)
    values (new.org_id, v_type, new.id, new.conversation_id, case when new.status = 'waiting' then null else new.agent_id end, v_payload);
    -- The previous agent of a reassigned session learns that it left them.
    if v_old_agent is not null and v_old_agent is distinct from new.agent_id then
      insert into public.agent_events (org_id, type, session_id, conversation_id, agent_id, payload)
      values (new.org_id, 'session.unassigned', new.id, new.conversation_id, v_old_agent, v_payload);
    end if;
  end if;

  -- Rollup, on the organisation's day.
  if new.agent_id is not null then
    select (now() at time zone coalesce(o.timezone, 'UTC'))::date into v_day from public.orgs o where o.id = new.org_id;
    insert into public.agent_daily_metrics as d (org_id, agent_id, day, sessions_accepted, sessions_transferred,
      sessions_ended, first_responses, first_response_seconds_total, handling_seconds_total,
      customer_messages_answered, agent_messages)
    select new.org_id, new.agent_id, v_day,
      (v_is_active and not coalesce(v_was_active and v_old_agent = new.agent_id, false))::int,
      (new.status = 'ended' and new.ended_reason = 'transferred' and coalesce(old.status, '') <> 'ended')::int,
      (new.status = 'ended' and coalesce(old.status, '') <> 'ended' and new.assigned_at is not null)::int,
      (new.first_response_at is not null and (tg_op = 'INSERT' or old.first_response_at is null))::int,
      case when new.first_response_at is not null and (tg_op = 'INSERT' or old.first_response_at is null)
        then greatest(0, extract(epoch from new.first_response_at - new.assigned_at)) else 0 end,
      case when new.status = 'ended' and coalesce(old.status, '') <> 'ended' and new.assigned_at is not null
        then greatest(0, extract(epoch from new.ended_at - new.assigned_at)) else 0 end,
      greatest(0, case when tg_op = 'UPDATE' then
        (new.customer_messages - new.unanswered_messages) - (old.customer_messages - old.unanswered_messages) else 0 end),
      greatest(0, new.agent_messages - coalesce(old.agent_messages, 0))
    where v_is_active or (tg_op = 'UPDATE' and (old.status = 'active' or new.status = 'ended'))
    on conflict (agent_id, day) do update set
      sessions_accepted = d.sessions_accepted + excluded.sessions_accepted,
      sessions_transferred = d.sessions_transferred + excluded.sessions_transferred,
      sessions_ended = d.sessions_ended + excluded.sessions_ended,
      first_responses = d.first_responses + excluded.first_responses,
      first_response_seconds_total = d.first_response_seconds_total + excluded.first_response_seconds_total,
      handling_seconds_total = d.handling_seconds_total + excluded.handling_seconds_total,
      customer_messages_answered = d.customer_messages_answered + excluded.customer_messages_answered,
      agent_messages = d.agent_messages + excluded.agent_messages;
  end if;
  return null;
end
$$;
revoke execute on function public.agent_sessions_after_change() from public, anon, authenticated, service_role;
create trigger agent_sessions_after_change after insert or update on public.agent_sessions
  for each row execute function public.agent_sessions_after_change();

-- Trigger on messages, after insert (once per statement). Named to sort after
-- messages_update_conversation, so that the conversation row is locked before the session row (the
-- file's lock order). For messages of conversations with an open session: customer messages push
-- expires_at to their time plus the organisation's session_ttl and count as unanswered; agent
-- messages set first_response_at and answer what was unanswered. Every such message becomes a
-- 'message' event on the feed. Who may call: the trigger. Changes agent_sessions, agent_events.
create or replace function public.messages_update_agent_session() returns trigger
language plpgsql security definer set search_path = ''
as $$
begin
  with batch as (
    select m.conversation_id,
      max(m.created_at) filter (where m.sender_type = 'customer') as last_customer_at,
      count(*) filter (where m.sender_type = 'customer') as customer,
      count(*) filter (where m.sender_type = 'agent') as agent,
      min(m.created_at) filter (where m.sender_type = 'agent') as first_agent_at,
      max(m.created_at) filter (where m.sender_type = 'agent') as last_agent_at
    from new_messages m group by m.conversation_id
  ), upd as (
    update public.agent_sessions s set
      last_customer_message_at = greatest(s.last_customer_message_at, b.last_customer_at),
      expires_at = case when b.last_customer_at is null then s.expires_at
                        else greatest(s.expires_at, b.last_customer_at + (public.agent_settings_for(s.org_id)).session_ttl) end,
      customer_messages = s.customer_messages + b.customer,
      agent_messages = s.agent_messages + case when s.status = 'active' then b.agent else 0 end,
      first_response_at = case when s.status = 'active' and s.first_response_at is null and b.first_agent_at is not null
                               then greatest(b.first_agent_at, s.assigned_at) else s.first_response_at end,
      unanswered_messages = case
        when s.status = 'active' and b.agent > 0 then
          (select count(*) from new_messages m where m.conversation_id = b.conversation_id
             and m.sender_type = 'customer' and m.created_at > b.last_agent_at)::int
        else s.unanswered_messages + b.customer end
    from batch b
    where s.conversation_id = b.conversation_id and s.status in ('waiting', 'active')
    returning s.id, s.org_id, s.conversation_id, s.agent_id, s.status
  )
  insert into public.agent_events (org_id, type, session_id, conversation_id, agent_id, payload)
  select u.org_id, 'message', u.id, u.conversation_id, case when u.status = 'active' then u.agent_id end,
    jsonb_build_object('message_id', m.id, 'session_id', u.id, 'conversation_id', u.conversation_id,
                       'sender', m.sender_type, 'body', m.body, 'created_at', m.created_at)
  from upd u join new_messages m on m.conversation_id = u.conversation_id
  order by m.id;
  return null;
end
$$;
revoke execute on function public.messages_update_agent_session() from public, anon, authenticated, service_role;
create trigger messages_update_session after insert on public.messages
  referencing new table as new_messages
  for each statement execute function public.messages_update_agent_session();

-- Trigger on agent_events, after insert (once per statement): NOTIFY agent_events with the
-- organisation id, once per organisation. Listeners then read the events by position, so a lost or
-- merged notification costs latency, never an event. Who may call: the trigger. Changes nothing.
create or replace function public.agent_events_notify() returns trigger
language plpgsql security definer set search_path = ''
as $$
declare
  v_org uuid;
begin
  for v_org in select distinct e.org_id from new_events e loop
    perform pg_notify('agent_events', v_org::text);
  end loop;
  return null;
end
$$;
revoke execute on function public.agent_events_notify() from public, anon, authenticated, service_role;
create trigger agent_events_notify after insert on public.agent_events
  referencing new table as new_events
  for each statement execute function public.agent_events_notify();

-- ---------------------------------------------------------------------------------------------
-- Assignment
-- ---------------------------------------------------------------------------------------------

-- Assigns waiting sessions of p_org (all, or only p_session) to agents, at most p_limit sessions
-- examined, in queue order (priority descending, then waiting time). For each, the agent is one who
-- is online, on shift at p_now in their own timezone, has the required skill (none required: any),
-- is a supervisor when the session was escalated to supervisors, and has spare capacity: least
-- loaded first, then longest since their last assignment. p_agent limits the candidates to one
-- agent (they just came online or freed capacity).
-- The races it prevents: two runs (or a run and a manual accept) assigning one session twice, and
-- two runs filling one agent past max_concurrent. Each session and its conversation are locked
-- with FOR UPDATE SKIP LOCKED (a session another transaction holds is left to it), and the agent's
-- agent_load row likewise before its count is checked and raised (a busy agent is skipped this
-- time). Never waits on a lock, so it cannot deadlock with accepts, replies or messages.
-- Returns the number of sessions assigned.
-- Who may call: the service role, the triggers and API functions of this file. Changes
-- agent_sessions, conversations, agent_load (by trigger).
create or replace function public.assign_waiting_sessions(
  p_org uuid, p_now timestamptz default now(), p_limit int default 1000,
  p_session uuid default null, p_agent uuid default null)
returns int
language plpgsql security definer set search_path = ''
as $$
declare
  v_agents uuid[];
  v_free bigint;
  v_session record;
  v_agent uuid;
  v_n int := 0;
begin
  -- Candidates now: online, on shift, with room. The capacity is checked again under the row lock.
  select array_agg(a.id), sum(a.max_concurrent - l.active_count) into v_agents, v_free
    from public.support_agents a join public.agent_load l on l.agent_id = a.id
    where a.org_id = p_org and a.status = 'online' and l.active_count < a.max_concurrent
      and (p_agent is null or a.id = p_agent)
      and public.agent_on_shift(a.shifts, a.timezone, p_now);
  if v_agents is null then
    return 0;
  end if;

  for v_session in
    select s.id, s.conversation_id, s.required_skill, s.escalation_level
    from public.agent_sessions s
    where s.org_id = p_org and s.status = 'waiting' and (p_session is null or s.id = p_session)
    order by s.priority desc, s.queued_at, s.id
    limit greatest(p_limit, 0)
    for update of s skip locked
  loop
    exit when v_free <= 0;
    -- The conversation too (lock order: a message insert holds it before it wants the session).
    perform 1 from public.conversations c where c.id = v_session.conversation_id for update skip locked;
    continue when not found;
    select l.agent_id into v_agent
      from public.agent_load l join public.support_agents a on a.id = l.agent_id
      where l.agent_id = any (v_agents) and l.active_count < a.max_concurrent
        and (v_session.required_skill is null or v_session.required_skill = any (a.skills))
        and (v_session.escalation_level < 2 or a.role = 'supervisor')
      order by l.active_count, l.last_assigned_at nulls first, l.agent_id
      limit 1
      for update of l skip locked;
    continue when not found;
    update public.agent_sessions s
      set status = 'active', agent_id = v_agent, assigned_at = p_now, assigned_by = 'auto'
      where s.id = v_session.id;
    update public.conversations c set status = 'agent', assigned_agent_id = v_agent
      where c.id = v_session.conversation_id;
    v_n := v_n + 1;
    v_free := v_free - 1;
  end loop;
  return v_n;
end
$$;
revoke execute on function public.assign_waiting_sessions(uuid, timestamptz, int, uuid, uuid) from public, anon, authenticated;
grant execute on function public.assign_waiting_sessions(uuid, timestamptz, int, uuid, uuid) to service_role;

-- Maintenance: assignment for every 'auto' organisation with waiting sessions, at most c_per_org
-- sessions examined per organisation. Returns the number assigned.
-- Who may call: the service role, run_maintenance_tasks(). Changes what assign_waiting_sessions changes.
create or replace function public.assign_all_waiting_sessions(p_now timestamptz default now()) returns bigint
language plpgsql security definer set search_path = ''
as $$
declare
  c_per_org constant int := 2000;
  v_org uuid;
  v_total bigint := 0;
begin
  for v_org in
    select distinct s.org_id from public.agent_sessions s
    where s.status = 'waiting' and (public.agent_settings_for(s.org_id)).assignment_mode = 'auto'
  loop
    v_total := v_total + public.assign_waiting_sessions(v_org, p_now, c_per_org, null, null);
  end loop;
  return v_total;
end
$$;
revoke execute on function public.assign_all_waiting_sessions(timestamptz) from public, anon, authenticated;
grant execute on function public.assign_all_waiting_sessions(timestamptz) to service_role;

-- Maintenance: a session waiting longer than escalate_after goes one priority step up (level 1);
-- longer than supervisor_after, it is routed to supervisors only (level 2). Each step once. Returns
-- the number of sessions escalated. Who may call: the service role, run_maintenance_tasks().
-- Changes agent_sessions.
create or replace function public.escalate_waiting_sessions(p_now timestamptz default now()) returns bigint
language plpgsql security definer set search_path = ''
as $$
declare
  v_n bigint;
begin
  with due as (
    select s.id,
      case when s.queued_at < p_now - st.supervisor_after then 2 else 1 end as level
    from public.agent_sessions s
    cross join lateral (select (public.agent_settings_for(s.org_id)).*) st
    where s.status = 'waiting' and s.escalation_level < 2 and s.queued_at < p_now - st.escalate_after
    for update of s skip locked
  )
  update public.agent_sessions s
    set escalation_level = greatest(s.escalation_level, d.level),
        priority = case when s.escalation_level = 0 then least(3, s.priority + 1) else s.priority end,
        escalated_at = p_now
    from due d
    where s.id = d.id and d.level > s.escalation_level;
  get diagnostics v_n = row_count;
  return v_n;
end
$$;
revoke execute on function public.escalate_waiting_sessions(timestamptz) from public, anon, authenticated;
grant execute on function public.escalate_waiting_sessions(timestamptz) to service_role;

-- ---------------------------------------------------------------------------------------------
-- Ending, expiry and replies
-- ---------------------------------------------------------------------------------------------

-- Ends one open session and moves its conversation: reason 'agent_ended' resolves the conversation
-- (the agent closed it), 'customer_ended' and 'expired' hand it back to the bot. For 'expired', the
-- organisation's notice is written as a system message and, for WhatsApp, queued in the outbox.
-- Then frees the agent's capacity and, in 'auto' organisations, lets that agent take the next
-- waiting session. The caller holds the conversation lock. Returns the outbox id of the notice (or null).
-- Who may call: the functions of this file. Changes agent_sessions, conversations, messages, outbox.
create or replace function public.agent_end_session_internal(
  p_session public.agent_sessions, p_reason text, p_ended_by uuid, p_now timestamptz)
returns bigint
language plpgsql security definer set search_path = ''
as $$
declare
  v_conv public.conversations;
  v_settings public.agent_settings := public.agent_settings_for(p_session.org_id);
  v_message bigint;
  v_outbox bigint;
  v_notice text;
begin
  update public.agent_sessions s set status = 'ended', ended_reason = p_reason, ended_by = p_ended_by, ended_at = p_now
    where s.id = p_session.id;
  select * into v_conv from public.conversations c where c.id = p_session.conversation_id;
  if p_reason = 'expired' then
    v_notice := replace(v_settings.expiry_notice, '{hours}',
                        trim(to_char(extract(epoch from v_settings.session_ttl) / 3600, 'FM999990.##'), '.'));
    insert into public.messages (conversation_id, org_id, sender_type, body, metadata)
    values (v_conv.id, v_conv.org_id, 'system', v_notice, jsonb_build_object('session_id', p_session.id, 'notice', 'expired'))
    returning id into v_message;
    if v_conv.channel = 'whatsapp' and v_conv.metadata ? 'wa_id' then
      insert into public.outbox (org_id, conversation_id, message_id, channel, recipient, payload, idempotency_key)
      values (v_conv.org_id, v_conv.id, v_message, 'whatsapp', v_conv.metadata ->> 'wa_id',
              jsonb_build_object('phone_number_id', v_conv.metadata ->> 'phone_number_id', 'text', v_notice, 'buttons', '[]'::jsonb),
              'agent-expired:' || p_session.id)
      on conflict (org_id, idempotency_key) do nothing
      returning id into v_outbox;
    end if;
  end if;
  if v_conv.status in ('queued', 'agent') then
    update public.conversations c
      set status = case when p_reason = 'agent_ended' then 'resolved' else 'bot' end,
          resolution_reason = case when p_reason = 'agent_ended' then 'completed' end,
          assigned_agent_id = null
      where c.id = v_conv.id;
  end if;
  if p_session.status = 'active' and p_session.agent_id is not null
     and v_settings.assignment_mode = 'auto' and p_reason <> 'transferred' then
    perform public.assign_waiting_sessions(p_session.org_id, p_now, 20, null, p_session.agent_id);
  end if;
  return v_outbox;
end
$$;
revoke execute on function public.agent_end_session_internal(public.agent_sessions, text, uuid, timestamptz) from public, anon, authenticated;
grant execute on function public.agent_end_session_internal(public.agent_sessions, text, uuid, timestamptz) to service_role;

-- Maintenance: ends open sessions whose expires_at is before p_now (reason 'expired'), hands their
-- conversations back to the bot and queues the notice. At most c_batch_size per call, skipping rows
-- another transaction holds (the race: a customer message extending the session at that moment;
-- it is looked at again next run). Returns the number ended.
-- Who may call: the service role, run_maintenance_tasks(). Changes agent_sessions, conversations,
-- messages, outbox.
create or replace function public.expire_agent_sessions(p_now timestamptz default now()) returns bigint
language plpgsql security definer set search_path = ''
as $$
declare
  c_batch_size constant int := 500;
  v_candidate record;
  v_session public.agent_sessions;
  v_n bigint := 0;
begin
  for v_candidate in
    select s.id, s.conversation_id from public.agent_sessions s
    where s.status in ('waiting', 'active') and s.expires_at < p_now
    order by s.expires_at limit c_batch_size
  loop
    perform 1 from public.conversations c where c.id = v_candidate.conversation_id for update skip locked;
    continue when not found;
    select * into v_session from public.agent_sessions s
      where s.id = v_candidate.id and s.status in ('waiting', 'active') and s.expires_at < p_now
      for update skip locked;
    continue when not found;
    perform public.agent_end_session_internal(v_session, 'expired', null, p_now);
    v_n := v_n + 1;
  end loop;
  return v_n;
end
$$;
revoke execute on function public.expire_agent_sessions(timestamptz) from public, anon, authenticated;
grant execute on function public.expire_agent_sessions(timestamptz) to service_role;

-- The customer ended the live session ("end chat"): the open session ends with 'customer_ended' and
-- the conversation goes back to the bot (a queued or agent conversation with no open session moves
-- too). Returns {"changed", "session_id"}. Who may call: the service role (the chat pipeline).
-- Changes agent_sessions, conversations, conversation_actions.
create or replace function public.agent_customer_end(p_conversation_id uuid, p_message_id bigint default null)
returns jsonb
language plpgsql security definer set search_path = ''
as $$
declare
  v_conv public.conversations;
  v_session public.agent_sessions;
begin
  select * into v_conv from public.conversations c where c.id = p_conversation_id for update;
  if not found then
    return jsonb_build_object('error', 'conversation_not_found');
  end if;
  select * into v_session from public.agent_sessions s
    where s.conversation_id = p_conversation_id and s.status in ('waiting', 'active') for update;
  if found then
    perform public.agent_end_session_internal(v_session, 'customer_ended', null, now());
  elsif v_conv.status in ('queued', 'agent') then
    update public.conversations c set status = 'bot', assigned_agent_id = null where c.id = p_conversation_id;
  else
    return jsonb_build_object('changed', false);
  end if;
  insert into public.conversation_actions (org_id, conversation_id, type, source, message_id, details)
  values (v_conv.org_id, v_conv.id, 'agent_session_ended', 'system', p_message_id,
          jsonb_strip_nulls(jsonb_build_object('reason', 'customer_ended', 'session_id', v_session.id)));
  return jsonb_build_object('changed', true, 'session_id', v_session.id);
end
$$;
revoke execute on function public.agent_customer_end(uuid, bigint) from public, anon, authenticated;
grant execute on function public.agent_customer_end(uuid, bigint) to service_role;

-- Maintenance: feed events older than 7 days, in batches (delete_rows_before()). Returns the number
-- deleted. Who may call: the service role, run_maintenance_tasks(). Changes agent_events.
create or replace function public.cleanup_old_agent_events(p_now timestamptz default now()) returns bigint
language sql security definer
set search_path = ''
as $$
  select public.delete_rows_before('public.agent_events', 'created_at', p_now - interval '7 days', 'true', 5000, 40)
$$;
revoke execute on function public.cleanup_old_agent_events(timestamptz) from public, anon, authenticated;
grant execute on function public.cleanup_old_agent_events(timestamptz) to service_role;

insert into public.maintenance_tasks (name, position, call, analyzed_table) values
  ('agent_escalation', 90, 'select public.escalate_waiting_sessions($1)', null),
  ('agent_assignment', 91, 'select public.assign_all_waiting_sessions($1)', null),
  ('agent_expiry', 92, 'select public.expire_agent_sessions($1)', null),
  ('old_agent_events', 93, 'select public.cleanup_old_agent_events($1)', 'public.agent_events')
on conflict (name) do update set call = excluded.call, position = excluded.position;

-- ---------------------------------------------------------------------------------------------
-- Row-level security. Agents read within their organisation (current_agent_org_id()); within it,
-- an agent sees the queue (waiting sessions) and their own sessions, a supervisor everything.
-- Organisation members (org_members: owners, admins) read everything of their organisations.
-- Writes go through the functions below (security definer, checking the caller) or the service role.
-- ---------------------------------------------------------------------------------------------
alter table public.agent_settings enable row level security;
alter table public.support_agents enable row level security;
alter table public.agent_load enable row level security;
alter table public.agent_sessions enable row level security;
alter table public.agent_events enable row level security;
alter table public.agent_daily_metrics enable row level security;

create policy agent_settings_member on public.agent_settings for all to authenticated
  using (org_id in (select public.user_org_ids())) with check (org_id in (select public.user_org_ids()));
create policy agent_settings_agent_read on public.agent_settings for select to authenticated
  using (org_id = (select public.current_agent_org_id()));

create policy support_agents_member on public.support_agents for all to authenticated
  using (org_id in (select public.user_org_ids())) with check (org_id in (select public.user_org_ids()));
create policy support_agents_agent_read on public.support_agents for select to authenticated
  using (org_id = (select public.current_agent_org_id()));

create policy agent_load_read on public.agent_load for select to authenticated
  using (org_id in (select public.user_org_ids()) or org_id = (select public.current_agent_org_id()));

create policy agent_sessions_member_read on public.agent_sessions for select to authenticated
  using (org_id in (select public.user_org_ids()));
create policy agent_sessions_agent_read on public.agent_sessions for select to authenticated
  using (org_id = (select public.current_agent_org_id())
         and ((select public.current_agent_is_supervisor()) or status = 'waiting'
              or agent_id = (select public.current_agent_id())));

create policy agent_events_member_read on public.agent_events for select to authenticated
  using (org_id in (select public.user_org_ids()));
create policy agent_events_agent_read on public.agent_events for select to authenticated
  using (org_id = (select public.current_agent_org_id())
         and ((select public.current_agent_is_supervisor()) or agent_id is null
              or agent_id = (select public.current_agent_id())));

create policy agent_daily_metrics_member_read on public.agent_daily_metrics for select to authenticated
  using (org_id in (select public.user_org_ids()));
create policy agent_daily_metrics_agent_read on public.agent_daily_metrics for select to authenticated
  using (org_id = (select public.current_agent_org_id())
         and ((select public.current_agent_is_supervisor()) or agent_id = (select public.current_agent_id())));

-- Conversations and messages: an agent reads those of sessions they may see (the queue's, their
-- own); a supervisor every conversation of the organisation.
create policy conversations_agent_read on public.conversations for select to authenticated
  using (org_id = (select public.current_agent_org_id())
         and ((select public.current_agent_is_supervisor())
              or exists (select 1 from public.agent_sessions s where s.conversation_id = conversations.id
                         and (s.status = 'waiting' or s.agent_id = (select public.current_agent_id())))));
create policy messages_agent_read on public.messages for select to authenticated
  using (org_id = (select public.current_agent_org_id())
         and ((select public.current_agent_is_supervisor())
              or exists (select 1 from public.agent_sessions s where s.conversation_id = messages.conversation_id
                         and (s.status = 'waiting' or s.agent_id = (select public.current_agent_id())))));

revoke all on public.agent_settings, public.support_agents, public.agent_load, public.agent_sessions,
  public.agent_events, public.agent_daily_metrics from anon, authenticated;
grant select, insert, update, delete on public.agent_settings to authenticated;
grant select on public.support_agents, public.agent_load, public.agent_sessions, public.agent_events,
  public.agent_daily_metrics to authenticated;
-- Organisation admins manage agents (the policy limits them to their organisations).
grant insert (org_id, user_id, display_name, email, role, status, skills, max_concurrent, timezone, shifts),
      update (display_name, email, role, status, skills, max_concurrent, timezone, shifts),
      delete on public.support_agents to authenticated;
grant all on public.agent_settings, public.support_agents, public.agent_load, public.agent_sessions,
  public.agent_events, public.agent_daily_metrics to service_role;

select public.enable_audit('public.support_agents');
select public.enable_audit('public.agent_settings');
