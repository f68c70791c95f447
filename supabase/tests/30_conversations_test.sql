-- Conversations and messages (migration 20261123000300): constraints, status transitions, the
-- timestamps and reopening kept by triggers, and call records turned into phone conversations.
-- Acts as the database owner throughout (RLS is covered by 34_housekeeping_rls_test.sql).
begin;
set local search_path = public, extensions;
select plan(52);

-- Fixtures: one organisation in Canada, a client, a second client sharing a number with a third.
insert into public.orgs (id, name, default_country) values
  ('a0000000-0000-4000-8000-000000000001', 'Org A', 'CA'),
  ('b0000000-0000-4000-8000-000000000001', 'Org B', 'US');
insert into public.clients (id, org_id, name, phone) values
  ('a0000000-0000-4000-8000-0000000000c1', 'a0000000-0000-4000-8000-000000000001', 'Jane', '416 555 0199'),
  ('a0000000-0000-4000-8000-0000000000c2', 'a0000000-0000-4000-8000-000000000001', 'Sam', '416 555 0142'),
  ('a0000000-0000-4000-8000-0000000000c3', 'a0000000-0000-4000-8000-000000000001', 'Priya', '1-416-555-0142');

-- ---------------------------------------------------------------------------------------------
-- Shape and constraints
-- ---------------------------------------------------------------------------------------------
select has_table('public', 'conversations', 'conversations exists');
select has_table('public', 'messages', 'messages exists');
select has_view('public', 'conversation_daily_metrics', 'conversation_daily_metrics exists (a view over its shards)');
select col_type_is('public', 'call_records', 'conversation_id', 'uuid', 'call_records has a conversation_id');

insert into public.conversations (id, org_id, channel, external_id) values
  ('a0000000-0000-4000-8000-0000000000d1', 'a0000000-0000-4000-8000-000000000001', 'whatsapp', 'wa-1');
select is((select status from public.conversations where id = 'a0000000-0000-4000-8000-0000000000d1'), 'bot',
  'a new conversation starts with the bot');

select throws_ok($$insert into public.conversations (org_id, channel) values ('a0000000-0000-4000-8000-000000000001', 'pigeon')$$,
  '23514', null, 'an unknown channel is refused');
select throws_ok($$insert into public.conversations (org_id, channel, status) values ('a0000000-0000-4000-8000-000000000001', 'web', 'closed')$$,
  '23514', null, 'an unknown status is refused');
select throws_ok($$insert into public.conversations (org_id, channel, resolution_reason) values ('a0000000-0000-4000-8000-000000000001', 'web', 'abandoned')$$,
  '23514', null, 'an open conversation cannot carry a resolution reason');
select throws_ok($$insert into public.conversations (org_id, channel, priority) values ('a0000000-0000-4000-8000-000000000001', 'web', 7)$$,
  '23514', null, 'priority is 0 to 3');
select throws_ok($$insert into public.conversations (org_id, channel, external_id) values ('a0000000-0000-4000-8000-000000000001', 'whatsapp', 'wa-1')$$,
  '23505', null, 'a provider thread id is unique per organisation and channel');
select lives_ok($$insert into public.conversations (org_id, channel, external_id) values ('a0000000-0000-4000-8000-000000000001', 'web', 'wa-1')$$,
  'the same thread id on another channel is another conversation');
select lives_ok($$insert into public.conversations (org_id, channel, external_id) values ('b0000000-0000-4000-8000-000000000001', 'whatsapp', 'wa-1')$$,
  'the same thread id in another organisation is another conversation');
select throws_ok($$insert into public.conversations (org_id, channel, client_id) values ('b0000000-0000-4000-8000-000000000001', 'web', 'a0000000-0000-4000-8000-0000000000c1')$$,
  '23503', null, 'the customer must be a client of the same organisation');
select throws_ok($$insert into public.messages (conversation_id, org_id, sender_type, body) values ('a0000000-0000-4000-8000-0000000000d1', 'b0000000-0000-4000-8000-000000000001', 'customer', 'hi')$$,
  '23503', null, 'a message must belong to its conversation''s organisation');
select throws_ok($$insert into public.messages (conversation_id, org_id, sender_type, body) values ('a0000000-0000-4000-8000-0000000000d1', 'a0000000-0000-4000-8000-000000000001', 'robot', 'hi')$$,
  '23514', null, 'an unknown sender type is refused');

insert into public.messages (conversation_id, org_id, sender_type, body, provider_message_id, created_at) values
  ('a0000000-0000-4000-8000-0000000000d1', 'a0000000-0000-4000-8000-000000000001', 'customer', 'hello', 'wamid.1', now() - interval '10 minutes');
select is((select count(*) from public.messages where provider_message_id = 'wamid.1'), 1::bigint, 'a message with a provider id is stored');
select throws_ok($$insert into public.messages (conversation_id, org_id, sender_type, body, provider_message_id) values ('a0000000-0000-4000-8000-0000000000d1', 'a0000000-0000-4000-8000-000000000001', 'customer', 'hello', 'wamid.1')$$,
  '23505', null, 'a replayed provider message id is refused');
select is_empty($$insert into public.messages (conversation_id, org_id, sender_type, body, provider_message_id) values ('a0000000-0000-4000-8000-0000000000d1', 'a0000000-0000-4000-8000-000000000001', 'customer', 'hello', 'wamid.1') on conflict (org_id, provider_message_id) do nothing returning id$$,
  'a replay with on conflict do nothing inserts nothing');
select is((select customer_message_count from public.conversations where id = 'a0000000-0000-4000-8000-0000000000d1'), 1,
  'the replay did not count the message twice');

-- ---------------------------------------------------------------------------------------------
-- Status transitions
-- ---------------------------------------------------------------------------------------------
select results_eq(
  $$select f, t from unnest(array['bot','queued','agent','resolved']) f, unnest(array['bot','queued','agent','resolved']) t
    where f <> t and public.conversation_transition_allowed(f, t) order by 1, 2$$,
  $$values ('agent','bot'), ('agent','queued'), ('agent','resolved'), ('bot','agent'), ('bot','queued'), ('bot','resolved'),
           ('queued','agent'), ('queued','bot'), ('queued','resolved'), ('resolved','bot'), ('resolved','queued')$$,
  'exactly the documented status changes are allowed');

insert into public.conversations (id, org_id, channel, external_id) values
  ('a0000000-0000-4000-8000-0000000000d2', 'a0000000-0000-4000-8000-000000000001', 'web', 'web-2');
select lives_ok($$update public.conversations set status = 'queued' where id = 'a0000000-0000-4000-8000-0000000000d2'$$,
  'bot -> queued is allowed');
-- 20261130000420_agent_status_rules.sql: the customer may end the wait or the live session.
select ok(public.conversation_transition_allowed('queued', 'bot'), 'queued -> bot is allowed (the customer ended the wait)');
select lives_ok($$update public.conversations set status = 'agent' where id = 'a0000000-0000-4000-8000-0000000000d2'$$,
  'queued -> agent is allowed');
select ok(public.conversation_transition_allowed('agent', 'bot'), 'agent -> bot is allowed ("end chat", expiry)');
select lives_ok($$update public.conversations set status = 'resolved' where id = 'a0000000-0000-4000-8000-0000000000d2'$$,
  'agent -> resolved is allowed');
select row_eq($$select resolved_at, resolution_reason from public.conversations where id = 'a0000000-0000-4000-8000-0000000000d2'$$,
  row(now(), 'completed'::text), 'resolving stamps resolved_at and the default reason completed');
select throws_ok($$update public.conversations set status = 'agent' where id = 'a0000000-0000-4000-8000-0000000000d2'$$,
  'SB001', 'INVALID_STATUS_TRANSITION', 'resolved -> agent is refused with SB001');
select lives_ok($$update public.conversations set status = 'queued' where id = 'a0000000-0000-4000-8000-0000000000d2'$$,
  'resolved -> queued (reopen by hand) is allowed');
select row_eq($$select resolved_at, resolution_reason from public.conversations where id = 'a0000000-0000-4000-8000-0000000000d2'$$,
  row(null::timestamptz, null::text), 'reopening clears resolved_at and the reason');
update public.conversations set status = 'resolved', resolution_reason = 'expired', resolved_at = '2026-01-02 03:04:05+00'
  where id = 'a0000000-0000-4000-8000-0000000000d2';
select row_eq($$select resolved_at, resolution_reason from public.conversations where id = 'a0000000-0000-4000-8000-0000000000d2'$$,
  row('2026-01-02 03:04:05+00'::timestamptz, 'expired'::text), 'a writer may give the resolution time and reason');
select throws_ok($$update public.conversations set resolved_at = null where id = 'a0000000-0000-4000-8000-0000000000d2'$$,
  '23514', null, 'a resolved conversation cannot lose its resolved_at');
select throws_ok($$update public.conversations set resolved_at = now() where id = 'a0000000-0000-4000-8000-0000000000d1'$$,
  '23514', null, 'an open conversation cannot get a resolved_at');

-- ---------------------------------------------------------------------------------------------
-- Timestamps kept by the database
-- ---------------------------------------------------------------------------------------------
insert into public.conversations (id, org_id, channel, external_id, last_activity_at) values
  ('a0000000-0000-4000-8000-0000000000d3', 'a0000000-0000-4000-8000-000000000001', 'whatsapp', 'wa-3', '2026-03-01 09:00+00');
insert into public.messages (conversation_id, org_id, sender_type, body, created_at) values
  ('a0000000-0000-4000-8000-0000000000d3', 'a0000000-0000-4000-8000-000000000001', 'customer', 'is anyone there', '2026-03-01 10:00+00');
select row_eq($$select last_activity_at, last_customer_message_at from public.conversations where id = 'a0000000-0000-4000-8000-0000000000d3'$$,
  row('2026-03-01 10:00+00'::timestamptz, '2026-03-01 10:00+00'::timestamptz),
  'a customer message moves last_activity_at and last_customer_message_at');
insert into public.messages (conversation_id, org_id, sender_type, body, created_at) values
  ('a0000000-0000-4000-8000-0000000000d3', 'a0000000-0000-4000-8000-000000000001', 'bot', 'yes', '2026-03-01 10:01+00');
select row_eq($$select last_activity_at, last_customer_message_at from public.conversations where id = 'a0000000-0000-4000-8000-0000000000d3'$$,
  row('2026-03-01 10:01+00'::timestamptz, '2026-03-01 10:00+00'::timestamptz),
  'a bot message moves last_activity_at only');
insert into public.messages (conversation_id, org_id, sender_type, body, created_at) values
  ('a0000000-0000-4000-8000-0000000000d3', 'a0000000-0000-4000-8000-000000000001', 'customer', 'late delivery', '2026-03-01 09:30+00');
select row_eq($$select last_activity_at, last_customer_message_at from public.conversations where id = 'a0000000-0000-4000-8000-0000000000d3'$$,
  row('2026-03-01 10:01+00'::timestamptz, '2026-03-01 10:00+00'::timestamptz),
  'a late-delivered older message never moves the timestamps back');
update public.conversations set summary = 'asked for a quote' where id = 'a0000000-0000-4000-8000-0000000000d3';
select is((select updated_at from public.conversations where id = 'a0000000-0000-4000-8000-0000000000d3'), now(),
  'any update stamps updated_at');

-- ---------------------------------------------------------------------------------------------
-- Reopening
-- ---------------------------------------------------------------------------------------------
update public.conversations set status = 'resolved', resolved_at = '2026-03-02 00:00+00'
  where id = 'a0000000-0000-4000-8000-0000000000d3';
insert into public.messages (conversation_id, org_id, sender_type, body, created_at) values
  ('a0000000-0000-4000-8000-0000000000d3', 'a0000000-0000-4000-8000-000000000001', 'bot', 'anything else?', '2026-03-02 01:00+00');
select is((select status from public.conversations where id = 'a0000000-0000-4000-8000-0000000000d3'), 'resolved',
  'a bot message does not reopen a resolved conversation');
insert into public.messages (conversation_id, org_id, sender_type, body, created_at) values
  ('a0000000-0000-4000-8000-0000000000d3', 'a0000000-0000-4000-8000-000000000001', 'customer', 'transcript line', '2026-03-01 23:00+00');
select is((select status from public.conversations where id = 'a0000000-0000-4000-8000-0000000000d3'), 'resolved',
  'a customer message dated before the resolution does not reopen it');
insert into public.messages (conversation_id, org_id, sender_type, body, created_at) values
  ('a0000000-0000-4000-8000-0000000000d3', 'a0000000-0000-4000-8000-000000000001', 'customer', 'one more thing', '2026-03-03 08:00+00');
select row_eq($$select status, resolved_at, resolution_reason from public.conversations where id = 'a0000000-0000-4000-8000-0000000000d3'$$,
  row('bot'::text, null::timestamptz, null::text),
  'a customer message after the resolution reopens the conversation with the bot');

insert into public.conversations (id, org_id, channel, external_id, status, resolution_reason, resolved_at) values
  ('a0000000-0000-4000-8000-0000000000d4', 'a0000000-0000-4000-8000-000000000001', 'sms', 'sms-4', 'resolved', 'abandoned', '2026-03-05 00:00+00');
insert into public.messages (conversation_id, org_id, sender_type, body, created_at) values
  ('a0000000-0000-4000-8000-0000000000d4', 'a0000000-0000-4000-8000-000000000001', 'customer', 'sorry, I was away', '2026-03-04 23:59+00');
select is((select status from public.conversations where id = 'a0000000-0000-4000-8000-0000000000d4'), 'bot',
  'any customer message reopens an abandoned conversation, whatever its timestamp');

insert into public.conversations (id, org_id, channel, external_id, status) values
  ('a0000000-0000-4000-8000-0000000000d5', 'a0000000-0000-4000-8000-000000000001', 'phone', 'call-5', 'resolved');
insert into public.messages (conversation_id, org_id, sender_type, body, created_at) values
  ('a0000000-0000-4000-8000-0000000000d5', 'a0000000-0000-4000-8000-000000000001', 'customer', 'hello?', now() + interval '1 hour');
select is((select status from public.conversations where id = 'a0000000-0000-4000-8000-0000000000d5'), 'resolved',
  'a phone conversation is never reopened: a new call is a new conversation');

-- ---------------------------------------------------------------------------------------------
-- Call records become phone conversations
-- ---------------------------------------------------------------------------------------------
insert into public.call_records (id, org_id, event_id, provider_conversation_id, call_session_id, call_control_id,
    caller, called, duration_sec, end_reason, occurred_at, payload)
values ('a0000000-0000-4000-8000-0000000000e1', 'a0000000-0000-4000-8000-000000000001', 'evt-1', 'tconv-1', 'sess-1', 'ctl-1',
    '(416) 555-0199', '+14165550100', 95, 'hangup', '2026-03-10 15:00:00+00', '{}');
select row_eq($$select channel, external_id, status, resolution_reason, resolved_at, customer_phone, client_id, resolution_seconds
                from public.conversations where id = (select conversation_id from public.call_records where id = 'a0000000-0000-4000-8000-0000000000e1')$$,
  row('phone'::text, 'tconv-1'::text, 'resolved'::text, 'call_ended'::text, '2026-03-10 15:00:00+00'::timestamptz,
      '+14165550199'::text, 'a0000000-0000-4000-8000-0000000000c1'::uuid, 95::double precision),
  'a call record creates a resolved phone conversation linked to it, with the known client');
select is((select metadata ->> 'end_reason' from public.conversations where external_id = 'tconv-1'), 'hangup',
  'the call''s end reason is kept in the conversation metadata');

insert into public.call_records (id, org_id, event_id, call_session_id, call_control_id, caller, occurred_at, payload)
values ('a0000000-0000-4000-8000-0000000000e2', 'a0000000-0000-4000-8000-000000000001', 'evt-2', 'sess-2', 'ctl-2', '+1 416 555 0142', now(), '{}');
select row_eq($$select external_id, client_id from public.conversations
                where id = (select conversation_id from public.call_records where id = 'a0000000-0000-4000-8000-0000000000e2')$$,
  row('sess-2'::text, null::uuid),
  'without a provider conversation id the call session id is the thread; an ambiguous caller gets no client');

insert into public.call_records (org_id, event_id, call_control_id, payload)
values ('a0000000-0000-4000-8000-000000000001', 'evt-3', 'ctl-3', '{}');
select is((select count(*) from public.conversations where channel = 'phone' and external_id = 'ctl-3'), 1::bigint,
  'with only a call control id, that id is the thread');

select is_empty($$insert into public.call_records (org_id, event_id, provider_conversation_id, payload)
                  values ('a0000000-0000-4000-8000-000000000001', 'evt-1', 'tconv-1', '{}')
                  on conflict (provider, event_id) do nothing returning id$$,
  'a redelivered call event inserts nothing');
select is((select count(*) from public.conversations where external_id = 'tconv-1'), 1::bigint,
  'and creates no second conversation');

insert into public.conversations (id, org_id, channel, external_id) values
  ('a0000000-0000-4000-8000-0000000000d6', 'a0000000-0000-4000-8000-000000000001', 'phone', 'tconv-live');
insert into public.call_records (id, org_id, event_id, provider_conversation_id, occurred_at, payload)
values ('a0000000-0000-4000-8000-0000000000e4', 'a0000000-0000-4000-8000-000000000001', 'evt-4', 'tconv-live', now(), '{}');
select row_eq($$select status, resolution_reason, (select conversation_id from public.call_records where id = 'a0000000-0000-4000-8000-0000000000e4')
                from public.conversations where id = 'a0000000-0000-4000-8000-0000000000d6'$$,
  row('resolved'::text, 'call_ended'::text, 'a0000000-0000-4000-8000-0000000000d6'::uuid),
  'the end of a call whose conversation is open resolves that conversation and links to it');

insert into public.call_records (id, org_id, event_id, provider_conversation_id, payload)
values ('a0000000-0000-4000-8000-0000000000e5', null, 'evt-5', 'tconv-orphan', '{}');
select row_eq($$select (select conversation_id from public.call_records where id = 'a0000000-0000-4000-8000-0000000000e5'),
                       (select count(*) from public.conversations where external_id = 'tconv-orphan')$$,
  row(null::uuid, 0::bigint), 'a call record without an organisation creates no conversation');

-- ---------------------------------------------------------------------------------------------
-- Deletion rules
-- ---------------------------------------------------------------------------------------------
delete from public.clients where id = 'a0000000-0000-4000-8000-0000000000c1';
select row_eq($$select org_id, client_id from public.conversations where external_id = 'tconv-1'$$,
  row('a0000000-0000-4000-8000-000000000001'::uuid, null::uuid),
  'deleting a client keeps its conversations, without the client');
delete from public.conversations where id = 'a0000000-0000-4000-8000-0000000000d3';
select is((select count(*) from public.messages where conversation_id = 'a0000000-0000-4000-8000-0000000000d3'), 0::bigint,
  'deleting a conversation deletes its messages');
delete from public.conversations where id = 'a0000000-0000-4000-8000-0000000000d6';
select row_eq($$select count(*), min(conversation_id::text) from public.call_records where id = 'a0000000-0000-4000-8000-0000000000e4'$$,
  row(1::bigint, null::text), 'a call record survives its conversation and loses only the link');

select * from finish();
rollback;
