-- Conversation metrics (migration 20261123000300): per-conversation counters and first response
-- time kept by update_conversation_metrics(), and the per-organisation daily rollup, counted on the
-- organisation's local day. Acts as the database owner.
begin;
set local search_path = public, extensions;
select plan(17);

-- Auckland is UTC+13 in March: 11:00 UTC on 1 March is already 2 March there.
insert into public.orgs (id, name, timezone) values
  ('a0000000-0000-4000-8000-000000000001', 'Org A', 'Pacific/Auckland');
insert into public.conversations (id, org_id, channel, external_id, created_at, last_activity_at) values
  ('a0000000-0000-4000-8000-0000000000d1', 'a0000000-0000-4000-8000-000000000001', 'whatsapp', 'wa-1',
   '2026-03-01 10:00+00', '2026-03-01 10:00+00');

select is((select conversations_started from public.conversation_daily_metrics
           where org_id = 'a0000000-0000-4000-8000-000000000001' and day = '2026-03-01' and channel = 'whatsapp'),
  1, 'a new conversation counts as started on its local day (10:00 UTC is 23:00 on 1 March in Auckland)');

insert into public.messages (conversation_id, org_id, sender_type, body, created_at) values
  ('a0000000-0000-4000-8000-0000000000d1', 'a0000000-0000-4000-8000-000000000001', 'bot', 'Hi! How can I help?', '2026-03-01 10:00:05+00');
select row_eq($$select bot_message_count, first_response_at from public.conversations where id = 'a0000000-0000-4000-8000-0000000000d1'$$,
  row(1, null::timestamptz), 'a bot greeting before the customer speaks is counted but is not a response');

insert into public.messages (conversation_id, org_id, sender_type, body, created_at) values
  ('a0000000-0000-4000-8000-0000000000d1', 'a0000000-0000-4000-8000-000000000001', 'customer', 'my furnace is dead', '2026-03-01 10:01:00+00');
select row_eq($$select customer_message_count, first_customer_message_at, first_response_at from public.conversations where id = 'a0000000-0000-4000-8000-0000000000d1'$$,
  row(1, '2026-03-01 10:01:00+00'::timestamptz, null::timestamptz), 'the first customer message is recorded');

insert into public.messages (conversation_id, org_id, sender_type, body, created_at) values
  ('a0000000-0000-4000-8000-0000000000d1', 'a0000000-0000-4000-8000-000000000001', 'system', 'handoff requested', '2026-03-01 10:01:10+00');
select row_eq($$select system_message_count, first_response_at from public.conversations where id = 'a0000000-0000-4000-8000-0000000000d1'$$,
  row(1, null::timestamptz), 'a system message is counted but is not a response');

insert into public.messages (conversation_id, org_id, sender_type, body, created_at) values
  ('a0000000-0000-4000-8000-0000000000d1', 'a0000000-0000-4000-8000-000000000001', 'agent', 'On my way', '2026-03-01 10:01:30+00');
select row_eq($$select agent_message_count, first_response_at, first_response_seconds from public.conversations where id = 'a0000000-0000-4000-8000-0000000000d1'$$,
  row(1, '2026-03-01 10:01:30+00'::timestamptz, 30::double precision),
  'the first agent (or bot) message after the customer''s is the first response, 30 s later');

insert into public.messages (conversation_id, org_id, sender_type, body, created_at) values
  ('a0000000-0000-4000-8000-0000000000d1', 'a0000000-0000-4000-8000-000000000001', 'bot', 'anything else?', '2026-03-01 11:00:00+00'),
  ('a0000000-0000-4000-8000-0000000000d1', 'a0000000-0000-4000-8000-000000000001', 'customer', 'no thanks', '2026-03-01 11:00:10+00');
select row_eq($$select customer_message_count, bot_message_count, agent_message_count, system_message_count, first_response_at
                from public.conversations where id = 'a0000000-0000-4000-8000-0000000000d1'$$,
  row(2, 2, 1, 1, '2026-03-01 10:01:30+00'::timestamptz), 'counters add up per sender and the first response stays');

select results_eq($$select day, customer_messages, bot_messages, agent_messages, system_messages, first_responses, first_response_seconds_total
                    from public.conversation_daily_metrics
                    where org_id = 'a0000000-0000-4000-8000-000000000001' and channel = 'whatsapp' order by day$$,
  $$values ('2026-03-01'::date, 1, 1, 1, 1, 1, 30::double precision), ('2026-03-02'::date, 1, 1, 0, 0, 0, 0::double precision)$$,
  'the rollup counts messages and the first response on the organisation''s local day');

update public.conversations set status = 'resolved', resolved_at = '2026-03-01 11:10:00+00'
  where id = 'a0000000-0000-4000-8000-0000000000d1';
select row_eq($$select conversations_resolved, conversations_abandoned, resolution_seconds_total from public.conversation_daily_metrics
                where org_id = 'a0000000-0000-4000-8000-000000000001' and day = '2026-03-02' and channel = 'whatsapp'$$,
  row(1, 0, 4200::double precision), 'a resolution is counted with its duration (70 minutes) on its local day');
select is((select resolution_seconds from public.conversations where id = 'a0000000-0000-4000-8000-0000000000d1'),
  4200::double precision, 'the conversation keeps its time to resolution');

update public.conversations set summary = 'furnace repair booked' where id = 'a0000000-0000-4000-8000-0000000000d1';
select is((select conversations_resolved from public.conversation_daily_metrics
           where org_id = 'a0000000-0000-4000-8000-000000000001' and day = '2026-03-02' and channel = 'whatsapp'),
  1, 'an update that does not resolve counts nothing');

delete from public.messages where conversation_id = 'a0000000-0000-4000-8000-0000000000d1';
select row_eq($$select customer_message_count, bot_message_count, agent_message_count, system_message_count, first_response_seconds
                from public.conversations where id = 'a0000000-0000-4000-8000-0000000000d1'$$,
  row(2, 2, 1, 1, 30::double precision), 'deleting messages leaves the counters and first response as they were');
select is((select sum(customer_messages + bot_messages + agent_messages + system_messages)::int from public.conversation_daily_metrics
           where org_id = 'a0000000-0000-4000-8000-000000000001'),
  6, 'and leaves the rollup as it was');

-- Reopened and resolved again as abandoned: a second resolution on the day it happened.
insert into public.messages (conversation_id, org_id, sender_type, body, created_at) values
  ('a0000000-0000-4000-8000-0000000000d1', 'a0000000-0000-4000-8000-000000000001', 'customer', 'actually...', '2026-03-05 00:00+00');
select is((select status from public.conversations where id = 'a0000000-0000-4000-8000-0000000000d1'), 'bot',
  'the customer came back');
update public.conversations set status = 'resolved', resolution_reason = 'abandoned', resolved_at = '2026-03-06 00:00+00'
  where id = 'a0000000-0000-4000-8000-0000000000d1';
select row_eq($$select conversations_resolved, conversations_abandoned from public.conversation_daily_metrics
                where org_id = 'a0000000-0000-4000-8000-000000000001' and day = '2026-03-06' and channel = 'whatsapp'$$,
  row(1, 1), 'a second resolution counts again, by reason');

-- A resolved phone call inserted in one go counts as started and resolved.
insert into public.conversations (org_id, channel, external_id, status, resolution_reason, created_at, resolved_at) values
  ('a0000000-0000-4000-8000-000000000001', 'phone', 'call-1', 'resolved', 'call_ended', '2026-03-07 01:00+00', '2026-03-07 01:02+00');
select row_eq($$select conversations_started, conversations_resolved, resolution_seconds_total from public.conversation_daily_metrics
                where org_id = 'a0000000-0000-4000-8000-000000000001' and day = '2026-03-07' and channel = 'phone'$$,
  row(1, 1, 120::double precision), 'a conversation inserted resolved counts as started and resolved');

select is((select count(*) from public.conversation_daily_metrics where org_id = 'a0000000-0000-4000-8000-000000000001'), 5::bigint,
  'one rollup row per organisation, local day and channel');

select ok((select bool_and(p.prosecdef) from pg_proc p
           where p.oid in ('public.update_conversation_metrics()'::regprocedure, 'public.rollup_conversation_metrics()'::regprocedure)),
  'the metrics triggers run as the owner, so members never need write access to counters or the rollup');

select * from finish();
rollback;
