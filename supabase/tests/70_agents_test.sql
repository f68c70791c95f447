-- Human agents in SQL (20261130000400-0430): queue order, eligibility (shifts across timezones and
-- midnight, skills, capacity, status), escalation, expiry with its notice, the per-agent rollup, and
-- RLS acting as agents and a supervisor. Time is shifted through p_now, never slept: the whole file
-- is one transaction, so now() is fixed and every "later" is now() plus an interval.
-- Sections: fixtures (owner); ordering; eligibility; escalation; expiry; rollup; then as Ann (agent),
-- as Sue (supervisor) and as Bo (agent of another organisation).
begin;
set local search_path = public, extensions;
select plan(57);

-- ---------------------------------------------------------------------------------------------
-- Fixtures (owner): organisation A (manual assignment, so only explicit runs assign) with Ann
-- (hvac, 2 at once, Vancouver, Mondays 09-17), Ben (plumbing, 1 at once, Tokyo, Friday 22:00 to
-- Saturday 06:00) and Sue (supervisor, no skills, no shifts); organisation B with Bo.
-- ---------------------------------------------------------------------------------------------
insert into auth.users (id, email) values
  ('a7000000-0000-4000-8000-0000000000a1', 'ann@a.example'),
  ('a7000000-0000-4000-8000-0000000000a2', 'ben@a.example'),
  ('a7000000-0000-4000-8000-0000000000a3', 'sue@a.example'),
  ('a7000000-0000-4000-8000-0000000000a4', 'dee@a.example'),
  ('b7000000-0000-4000-8000-0000000000b1', 'bo@b.example');
insert into public.orgs (id, name) values
  ('a7000000-0000-4000-8000-000000000001', 'Org A'),
  ('b7000000-0000-4000-8000-000000000001', 'Org B');
insert into public.agent_settings (org_id, assignment_mode) values
  ('a7000000-0000-4000-8000-000000000001', 'manual'),
  ('b7000000-0000-4000-8000-000000000001', 'manual');
insert into public.support_agents (id, org_id, user_id, display_name, role, status, skills, max_concurrent, timezone, shifts) values
  ('a7000000-0000-4000-8000-000000000011', 'a7000000-0000-4000-8000-000000000001', 'a7000000-0000-4000-8000-0000000000a1',
   'Ann', 'agent', 'offline', '{hvac}', 2, 'America/Vancouver', '{"mon": [["09:00", "17:00"]]}'),
  ('a7000000-0000-4000-8000-000000000012', 'a7000000-0000-4000-8000-000000000001', 'a7000000-0000-4000-8000-0000000000a2',
   'Ben', 'agent', 'offline', '{plumbing}', 1, 'Asia/Tokyo', '{"fri": [["22:00", "06:00"]]}'),
  ('a7000000-0000-4000-8000-000000000013', 'a7000000-0000-4000-8000-000000000001', 'a7000000-0000-4000-8000-0000000000a3',
   'Sue', 'supervisor', 'online', '{}', 1, 'UTC', null),
  ('b7000000-0000-4000-8000-000000000011', 'b7000000-0000-4000-8000-000000000001', 'b7000000-0000-4000-8000-0000000000b1',
   'Bo', 'agent', 'online', '{}', 3, 'UTC', null);

-- A conversation of org A queued for people; its session is opened by the trigger.
create function pg_temp.queue(p_id uuid, p_priority smallint, p_waited interval, p_skill text default null,
                              p_channel text default 'web', p_org uuid default 'a7000000-0000-4000-8000-000000000001')
returns uuid language plpgsql as $$
declare v uuid;
begin
  insert into public.conversations (id, org_id, channel, external_id, status, priority, metadata)
  values (p_id, p_org, p_channel, 'pgtap:' || p_id, 'queued', p_priority,
          case when p_channel = 'whatsapp' then jsonb_build_object('wa_id', '14165550100', 'phone_number_id', '100000000000001')
               else '{}'::jsonb end
          || case when p_skill is null then '{}'::jsonb else jsonb_build_object('required_skill', p_skill) end);
  update public.agent_sessions s set queued_at = now() - p_waited where s.conversation_id = p_id returning s.id into v;
  return v;
end $$;
create function pg_temp.session_of(p_conversation uuid) returns public.agent_sessions language sql as $$
  select * from public.agent_sessions s where s.conversation_id = p_conversation order by s.created_at desc, s.queued_at desc limit 1
$$;
-- Ends every open session of org A (a console resolve: reason 'closed'), freeing the agents.
create function pg_temp.reset() returns void language sql as $$
  update public.conversations set status = 'resolved' where org_id = 'a7000000-0000-4000-8000-000000000001' and status in ('queued', 'agent');
$$;

-- ---------------------------------------------------------------------------------------------
-- Ordering: priority first, then waiting time. Only Sue is online, with one free slot.
-- ---------------------------------------------------------------------------------------------
do $$ begin perform pg_temp.queue('a7000000-0000-4000-8000-0000000001c1', 1::smallint, interval '10 minutes'); end $$;
do $$ begin perform pg_temp.queue('a7000000-0000-4000-8000-0000000001c2', 2::smallint, interval '1 minute'); end $$;
do $$ begin perform pg_temp.queue('a7000000-0000-4000-8000-0000000001c3', 1::smallint, interval '20 minutes'); end $$;

select is(public.assign_waiting_sessions('a7000000-0000-4000-8000-000000000001', now(), 10), 1,
  'ordering: one free slot makes one assignment');
select is((pg_temp.session_of('a7000000-0000-4000-8000-0000000001c2')).status, 'active',
  'ordering: the higher priority goes first, though it waited least');
update public.support_agents set max_concurrent = 2 where id = 'a7000000-0000-4000-8000-000000000013';
select is(public.assign_waiting_sessions('a7000000-0000-4000-8000-000000000001', now(), 10), 1,
  'ordering: a second slot makes a second assignment');
select is((pg_temp.session_of('a7000000-0000-4000-8000-0000000001c3')).status, 'active',
  'ordering: then the longest waiting of equal priority');
select is((pg_temp.session_of('a7000000-0000-4000-8000-0000000001c1')).status, 'waiting',
  'ordering: the shorter wait of equal priority is still waiting');
select is((select c.status from public.conversations c where c.id = 'a7000000-0000-4000-8000-0000000001c3'), 'agent',
  'ordering: an assigned session''s conversation is with an agent');
select is((select active_count from public.agent_load where agent_id = 'a7000000-0000-4000-8000-000000000013'), 2,
  'ordering: the agent''s load counts both');
do $$ begin perform pg_temp.reset(); end $$;
select is((select active_count from public.agent_load where agent_id = 'a7000000-0000-4000-8000-000000000013'), 0,
  'ordering: resolving the conversations frees the agent');
update public.support_agents set status = 'offline' where id = 'a7000000-0000-4000-8000-000000000013';

-- ---------------------------------------------------------------------------------------------
-- Eligibility: shifts in the agent's own timezone (2026-11-30 is a Monday; Vancouver is UTC-8
-- in winter and UTC-7 in summer; Tokyo UTC+9), across midnight, skills, capacity, status.
-- ---------------------------------------------------------------------------------------------
select ok(public.agent_on_shift('{"mon": [["09:00", "17:00"]]}', 'America/Vancouver', '2026-11-30 17:00+00'),
  'shift: Monday 09:00 in Vancouver (17:00 UTC) is inside 09-17');
select ok(not public.agent_on_shift('{"mon": [["09:00", "17:00"]]}', 'America/Vancouver', '2026-11-30 16:59+00'),
  'shift: Monday 08:59 in Vancouver is outside');
select ok(not public.agent_on_shift('{"mon": [["09:00", "17:00"]]}', 'America/Vancouver', '2026-12-01 01:00+00'),
  'shift: the end is exclusive (17:00 in Vancouver is already Tuesday 01:00 UTC)');
select ok(public.agent_on_shift('{"mon": [["09:00", "17:00"]]}', 'America/Vancouver', '2026-07-06 16:00+00'),
  'shift: in summer Monday 09:00 in Vancouver is 16:00 UTC (daylight saving follows the agent''s clock)');
select ok(public.agent_on_shift('{"fri": [["22:00", "06:00"]]}', 'Asia/Tokyo', '2026-12-04 20:59+00'),
  'shift: Saturday 05:59 in Tokyo belongs to Friday''s overnight shift');
select ok(not public.agent_on_shift('{"fri": [["22:00", "06:00"]]}', 'Asia/Tokyo', '2026-12-04 21:00+00'),
  'shift: Saturday 06:00 in Tokyo is past it');
select ok(not public.agent_on_shift('{"fri": [["22:00", "06:00"]]}', 'Asia/Tokyo', '2026-12-04 12:59+00'),
  'shift: Friday 21:59 in Tokyo is before it');
select ok(public.agent_on_shift(null, 'UTC', '2026-12-05 03:00+00'), 'shift: no shifts means always on shift');

update public.support_agents set status = 'online'
  where id in ('a7000000-0000-4000-8000-000000000011', 'a7000000-0000-4000-8000-000000000012');
do $$ begin perform pg_temp.queue('a7000000-0000-4000-8000-0000000002c1', 1::smallint, interval '3 minutes', 'plumbing'); end $$;
select is(public.assign_waiting_sessions('a7000000-0000-4000-8000-000000000001', '2026-11-30 18:00+00', 10), 0,
  'skills: a plumbing session waits on Monday morning in Vancouver (Ann lacks the skill, Ben is off shift in Tokyo)');
select is(public.assign_waiting_sessions('a7000000-0000-4000-8000-000000000001', '2026-12-04 15:00+00', 10), 1,
  'shift across midnight: at Saturday 00:00 in Tokyo, Ben is on his Friday night shift');
select is((pg_temp.session_of('a7000000-0000-4000-8000-0000000002c1')).agent_id, 'a7000000-0000-4000-8000-000000000012'::uuid,
  'skills: the plumbing session went to Ben, the agent with the skill');

do $$ begin perform pg_temp.queue('a7000000-0000-4000-8000-0000000002c2', 1::smallint, interval '3 minutes', 'hvac'); end $$;
do $$ begin perform pg_temp.queue('a7000000-0000-4000-8000-0000000002c3', 1::smallint, interval '2 minutes', 'hvac'); end $$;
do $$ begin perform pg_temp.queue('a7000000-0000-4000-8000-0000000002c4', 1::smallint, interval '1 minute', 'hvac'); end $$;
select is(public.assign_waiting_sessions('a7000000-0000-4000-8000-000000000001', '2026-11-30 18:00+00', 10), 2,
  'capacity: Ann takes two hvac sessions, her max_concurrent');
select is((pg_temp.session_of('a7000000-0000-4000-8000-0000000002c4')).status, 'waiting',
  'capacity: the third, the newest, waits');
select is((select active_count from public.agent_load where agent_id = 'a7000000-0000-4000-8000-000000000011'), 2,
  'capacity: Ann''s load is at her capacity, never above');
update public.conversations set status = 'resolved' where id = 'a7000000-0000-4000-8000-0000000002c2';
update public.support_agents set status = 'away' where id = 'a7000000-0000-4000-8000-000000000011';
select is(public.assign_waiting_sessions('a7000000-0000-4000-8000-000000000001', '2026-11-30 18:00+00', 10), 0,
  'status: an agent who is away gets nothing, even with room');
update public.support_agents set status = 'online' where id = 'a7000000-0000-4000-8000-000000000011';
select is(public.assign_waiting_sessions('a7000000-0000-4000-8000-000000000001', '2026-11-30 18:00+00', 10, null,
                                         'a7000000-0000-4000-8000-000000000011'), 1,
  'status: back online, Ann takes the waiting session');
do $$ begin perform pg_temp.reset(); end $$;

-- ---------------------------------------------------------------------------------------------
-- Escalation: 5 minutes raises the priority once, 15 minutes routes to supervisors only.
-- ---------------------------------------------------------------------------------------------
do $$ begin perform pg_temp.queue('a7000000-0000-4000-8000-0000000003c1', 1::smallint, interval '0 minutes'); end $$;
select is(public.escalate_waiting_sessions(now() + interval '4 minutes'), 0::bigint, 'escalation: nothing before 5 minutes');
select is(public.escalate_waiting_sessions(now() + interval '6 minutes'), 1::bigint, 'escalation: one step after 5 minutes');
select is(((pg_temp.session_of('a7000000-0000-4000-8000-0000000003c1')).priority, (pg_temp.session_of('a7000000-0000-4000-8000-0000000003c1')).escalation_level),
  (2::smallint, 1::smallint), 'escalation: priority up one, level 1');
select is(public.escalate_waiting_sessions(now() + interval '7 minutes'), 0::bigint, 'escalation: each step once');
select is(public.escalate_waiting_sessions(now() + interval '16 minutes'), 1::bigint, 'escalation: the second step after 15 minutes');
select is(((pg_temp.session_of('a7000000-0000-4000-8000-0000000003c1')).priority, (pg_temp.session_of('a7000000-0000-4000-8000-0000000003c1')).escalation_level),
  (2::smallint, 2::smallint), 'escalation: level 2 keeps the priority');
select is(public.assign_waiting_sessions('a7000000-0000-4000-8000-000000000001', '2026-11-30 18:00+00', 10), 0,
  'escalation: at level 2 an on-shift agent with room (Ann) is not eligible');
update public.support_agents set status = 'online' where id = 'a7000000-0000-4000-8000-000000000013';
select is(public.assign_waiting_sessions('a7000000-0000-4000-8000-000000000001', '2026-11-30 18:00+00', 10), 1,
  'escalation: a supervisor online takes it');
select is((pg_temp.session_of('a7000000-0000-4000-8000-0000000003c1')).agent_id, 'a7000000-0000-4000-8000-000000000013'::uuid,
  'escalation: the session went to Sue, the supervisor');
do $$ begin perform pg_temp.reset(); end $$;

-- ---------------------------------------------------------------------------------------------
-- Expiry: 22 hours after the customer's last message; the notice is written and queued.
-- ---------------------------------------------------------------------------------------------
do $$ begin perform pg_temp.queue('a7000000-0000-4000-8000-0000000004c1', 1::smallint, interval '0 minutes', null, 'whatsapp'); end $$;
update public.agent_sessions set status = 'active', agent_id = 'a7000000-0000-4000-8000-000000000013', assigned_at = now()
  where conversation_id = 'a7000000-0000-4000-8000-0000000004c1';
insert into public.messages (conversation_id, org_id, sender_type, body, created_at)
values ('a7000000-0000-4000-8000-0000000004c1', 'a7000000-0000-4000-8000-000000000001', 'customer', 'still there?', now() + interval '10 hours');
select is((pg_temp.session_of('a7000000-0000-4000-8000-0000000004c1')).expires_at, now() + interval '32 hours',
  'expiry: expires_at is the customer''s last message plus 22 hours');
select is(public.expire_agent_sessions(now() + interval '31 hours'), 0::bigint, 'expiry: nothing ends before');
select is(public.expire_agent_sessions(now() + interval '33 hours'), 1::bigint, 'expiry: the session ends after');
select is(((pg_temp.session_of('a7000000-0000-4000-8000-0000000004c1')).status, (pg_temp.session_of('a7000000-0000-4000-8000-0000000004c1')).ended_reason),
  ('ended'::text, 'expired'::text), 'expiry: ended with reason expired');
select is((select status from public.conversations where id = 'a7000000-0000-4000-8000-0000000004c1'), 'bot',
  'expiry: the conversation is back with the bot');
select is((select body from public.messages where conversation_id = 'a7000000-0000-4000-8000-0000000004c1' and sender_type = 'system'),
  'Chat expired after 22 hours. Write again any time and our assistant will help you.',
  'expiry: the notice is in the conversation');
select is((select recipient from public.outbox
           where idempotency_key = 'agent-expired:' || (pg_temp.session_of('a7000000-0000-4000-8000-0000000004c1')).id),
  '14165550100', 'expiry: the notice is queued in the outbox for the WhatsApp customer');
select is((select active_count from public.agent_load where agent_id = 'a7000000-0000-4000-8000-000000000013'), 0,
  'expiry: the agent''s capacity is freed');

-- ---------------------------------------------------------------------------------------------
-- The performance rollup: Dee accepts, is answered, replies and ends.
-- ---------------------------------------------------------------------------------------------
insert into public.support_agents (id, org_id, user_id, display_name, role, status, max_concurrent)
values ('a7000000-0000-4000-8000-000000000014', 'a7000000-0000-4000-8000-000000000001', 'a7000000-0000-4000-8000-0000000000a4',
        'Dee', 'agent', 'online', 3);
do $$ begin perform pg_temp.queue('a7000000-0000-4000-8000-0000000005c1', 1::smallint, interval '0 minutes'); end $$;
insert into public.messages (conversation_id, org_id, sender_type, body)
values ('a7000000-0000-4000-8000-0000000005c1', 'a7000000-0000-4000-8000-000000000001', 'customer', 'hello?');
do $$ begin perform set_config('test.rollup_session', (pg_temp.session_of('a7000000-0000-4000-8000-0000000005c1')).id::text, true); end $$;
set local request.jwt.claims = '{"sub": "a7000000-0000-4000-8000-0000000000a4", "role": "authenticated"}';
select is((public.agent_accept(current_setting('test.rollup_session')::uuid)) ->> 'changed', 'true', 'rollup: Dee accepts');
insert into public.messages (conversation_id, org_id, sender_type, body)
values ('a7000000-0000-4000-8000-0000000005c1', 'a7000000-0000-4000-8000-000000000001', 'customer', 'my heat is off');
select is((public.agent_reply(current_setting('test.rollup_session')::uuid, 'On it')) ->> 'duplicate', 'false', 'rollup: Dee replies');
select is((public.agent_end(current_setting('test.rollup_session')::uuid)) ->> 'changed', 'true', 'rollup: Dee ends the session');
reset request.jwt.claims;
select is((select (sessions_accepted, sessions_ended, first_responses, agent_messages, customer_messages_answered)::text
           from public.agent_daily_metrics where agent_id = 'a7000000-0000-4000-8000-000000000014'),
  '(1,1,1,1,2)', 'rollup: one accepted, one ended, one first response, one reply answering both customer messages');
select ok((select first_response_seconds_total >= 0 and handling_seconds_total >= 0 from public.agent_daily_metrics
           where agent_id = 'a7000000-0000-4000-8000-000000000014'), 'rollup: times are totals, never negative');

-- State for RLS: a waiting session and Ben's active one in A, a waiting one in B.
do $$ begin perform pg_temp.queue('a7000000-0000-4000-8000-0000000006c1', 1::smallint, interval '1 minute'); end $$;
do $$ begin perform pg_temp.queue('a7000000-0000-4000-8000-0000000006c2', 1::smallint, interval '1 minute'); end $$;
update public.agent_sessions set status = 'active', agent_id = 'a7000000-0000-4000-8000-000000000012', assigned_at = now()
  where conversation_id = 'a7000000-0000-4000-8000-0000000006c2';
do $$ begin perform pg_temp.queue('b7000000-0000-4000-8000-0000000006c1', 1::smallint, interval '1 minute', null, 'web', 'b7000000-0000-4000-8000-000000000001'); end $$;
do $$ begin perform set_config('test.b_session', (pg_temp.session_of('b7000000-0000-4000-8000-0000000006c1')).id::text, true); end $$;

-- ---------------------------------------------------------------------------------------------
-- As Ann, an agent of A: her organisation only; the queue and her own sessions only.
-- ---------------------------------------------------------------------------------------------
set local role authenticated;
set local request.jwt.claims = '{"sub": "a7000000-0000-4000-8000-0000000000a1", "role": "authenticated"}';
select is((select array_agg(display_name order by display_name) from public.support_agents), array['Ann', 'Ben', 'Dee', 'Sue'],
  'as Ann: the agents of her organisation only');
select is((select array_agg(conversation_id) from public.agent_sessions where status in ('waiting', 'active')),
  array['a7000000-0000-4000-8000-0000000006c1'::uuid], 'as Ann: the waiting session, not Ben''s active one, nothing of B');
select is_empty($$select 1 from public.conversations where id in ('a7000000-0000-4000-8000-0000000006c2', 'b7000000-0000-4000-8000-0000000006c1')$$,
  'as Ann: neither Ben''s conversation nor B''s');
select is_empty($$select 1 from public.agent_events where org_id = 'b7000000-0000-4000-8000-000000000001'$$,
  'as Ann: no feed events of B');
select is_empty($$select 1 from public.agent_daily_metrics where agent_id <> 'a7000000-0000-4000-8000-000000000011'$$,
  'as Ann: no other agent''s performance');
select throws_ok($$update public.agent_sessions set agent_id = 'a7000000-0000-4000-8000-000000000011'
                   where conversation_id = 'a7000000-0000-4000-8000-0000000006c1'$$,
  '42501', null, 'as Ann: sessions change only through the functions');
select throws_ok($$select public.agent_accept(current_setting('test.b_session')::uuid)$$,
  'SBN04', null, 'as Ann: B''s session does not exist for her (NOT_FOUND)');

-- ---------------------------------------------------------------------------------------------
-- As Sue, supervisor of A: everything of A, nothing of B.
-- ---------------------------------------------------------------------------------------------
set local request.jwt.claims = '{"sub": "a7000000-0000-4000-8000-0000000000a3", "role": "authenticated"}';
select is((select array_agg(conversation_id order by conversation_id) from public.agent_sessions where status in ('waiting', 'active')),
  array['a7000000-0000-4000-8000-0000000006c1'::uuid, 'a7000000-0000-4000-8000-0000000006c2'::uuid],
  'as Sue: every open session of A, Ben''s included, none of B');
select ok((select count(distinct agent_id) >= 2 from public.agent_daily_metrics), 'as Sue: every agent''s performance in A');

-- ---------------------------------------------------------------------------------------------
-- As Bo, agent of B: nothing of A.
-- ---------------------------------------------------------------------------------------------
set local request.jwt.claims = '{"sub": "b7000000-0000-4000-8000-0000000000b1", "role": "authenticated"}';
select is((select array_agg(conversation_id) from public.agent_sessions), array['b7000000-0000-4000-8000-0000000006c1'::uuid],
  'as Bo: B''s session only');
select is_empty($$select 1 from public.support_agents where org_id = 'a7000000-0000-4000-8000-000000000001'$$,
  'as Bo: none of A''s agents');

reset role;
select * from finish();
rollback;
