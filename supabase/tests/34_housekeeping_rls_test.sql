-- Organisation isolation on every table of migrations 20261123000300-0330: a member of org A, signed
-- in as on Supabase (role authenticated, request.jwt.claims), sees and writes org A's rows only.
-- Sections: fixtures as the owner; then as Ana (member of A); then as anon.
begin;
set local search_path = public, extensions;
select plan(31);

-- ---------------------------------------------------------------------------------------------
-- Fixtures (owner): two organisations with one of everything each.
-- ---------------------------------------------------------------------------------------------
insert into auth.users (id, email) values
  ('a0000000-0000-4000-8000-0000000000a1', 'ana@a.example'),
  ('b0000000-0000-4000-8000-0000000000b1', 'bo@b.example');
insert into public.orgs (id, name) values
  ('a0000000-0000-4000-8000-000000000001', 'Org A'),
  ('b0000000-0000-4000-8000-000000000001', 'Org B');
insert into public.org_members (org_id, user_id, role) values
  ('a0000000-0000-4000-8000-000000000001', 'a0000000-0000-4000-8000-0000000000a1', 'owner'),
  ('b0000000-0000-4000-8000-000000000001', 'b0000000-0000-4000-8000-0000000000b1', 'owner');
insert into public.conversations (id, org_id, channel, external_id) values
  ('a0000000-0000-4000-8000-0000000000d1', 'a0000000-0000-4000-8000-000000000001', 'web', 'a-1'),
  ('b0000000-0000-4000-8000-0000000000d1', 'b0000000-0000-4000-8000-000000000001', 'web', 'b-1');
insert into public.messages (conversation_id, org_id, sender_type, body) values
  ('a0000000-0000-4000-8000-0000000000d1', 'a0000000-0000-4000-8000-000000000001', 'customer', 'hello from A'),
  ('b0000000-0000-4000-8000-0000000000d1', 'b0000000-0000-4000-8000-000000000001', 'customer', 'hello from B');
insert into public.maintenance_settings (org_id, abandon_after) values
  ('a0000000-0000-4000-8000-000000000001', interval '2 hours'),
  ('b0000000-0000-4000-8000-000000000001', interval '3 hours');
select is((select count(distinct org_id) from public.audit_logs
           where org_id in ('a0000000-0000-4000-8000-000000000001', 'b0000000-0000-4000-8000-000000000001')),
  2::bigint, 'fixtures: both organisations have audit rows');

-- ---------------------------------------------------------------------------------------------
-- As Ana, member of org A
-- ---------------------------------------------------------------------------------------------
set local role authenticated;
set local request.jwt.claims = '{"sub": "a0000000-0000-4000-8000-0000000000a1", "role": "authenticated"}';

select is(array(select external_id from public.conversations order by 1), array['a-1'],
  'conversations: only org A''s are visible');
select is(array(select body from public.messages order by 1), array['hello from A'],
  'messages: only org A''s are visible');
select is(array(select distinct org_id from public.audit_logs), array['a0000000-0000-4000-8000-000000000001'::uuid],
  'audit_logs: only org A''s trail is visible');
select is(array(select distinct org_id from public.conversation_daily_metrics), array['a0000000-0000-4000-8000-000000000001'::uuid],
  'conversation_daily_metrics: only org A''s rollup is visible');
select is(array(select abandon_after from public.maintenance_settings), array[interval '2 hours'],
  'maintenance_settings: only org A''s settings are visible');
select is(array(select org_id from public.effective_maintenance_settings), array['a0000000-0000-4000-8000-000000000001'::uuid],
  'effective_maintenance_settings: only org A is listed');

select throws_ok($$insert into public.conversations (org_id, channel) values ('b0000000-0000-4000-8000-000000000001', 'web')$$,
  '42501', null, 'cannot create a conversation in org B');
select throws_ok($$insert into public.messages (conversation_id, org_id, sender_type, body) values ('b0000000-0000-4000-8000-0000000000d1', 'b0000000-0000-4000-8000-000000000001', 'agent', 'hi')$$,
  '42501', null, 'cannot write a message into org B''s conversation');
select is_empty($$update public.conversations set summary = 'mine now' where id = 'b0000000-0000-4000-8000-0000000000d1' returning id$$,
  'an update of org B''s conversation touches nothing');
select throws_ok($$update public.conversations set org_id = 'b0000000-0000-4000-8000-000000000001' where id = 'a0000000-0000-4000-8000-0000000000d1'$$,
  '42501', null, 'cannot move a conversation into org B');
select throws_ok($$delete from public.conversations where id = 'b0000000-0000-4000-8000-0000000000d1'$$,
  '42501', null, 'members cannot delete conversations');
select throws_ok($$insert into public.conversation_daily_metric_shards (org_id, day, channel) values ('a0000000-0000-4000-8000-000000000001', current_date, 'web')$$,
  '42501', null, 'the rollup is not writable, even for one''s own organisation');
select throws_ok($$insert into public.maintenance_settings (org_id, abandon_after) values ('a0000000-0000-4000-8000-000000000001', interval '1 minute')$$,
  '42501', null, 'members cannot change maintenance periods');
select throws_ok($$insert into public.audit_logs (table_name, record_id, operation, new_values, actor, db_role) values ('clients', 'x', 'INSERT', '{}', 'ana', 'x')$$,
  '42501', null, 'members cannot write the audit trail');
select throws_ok($$delete from public.audit_logs$$, '42501', null, 'members cannot delete from the audit trail');
select throws_ok($$select public.run_maintenance_tasks()$$, '42501', null, 'members cannot run maintenance');
select throws_ok($$select public.cleanup_old_audit_logs(now() + interval '1000 days')$$, '42501', null,
  'members cannot run retention');

select lives_ok($$insert into public.messages (conversation_id, org_id, sender_type, body) values ('a0000000-0000-4000-8000-0000000000d1', 'a0000000-0000-4000-8000-000000000001', 'agent', 'on it')$$,
  'a member writes a message into their own conversation');
select is((select agent_message_count from public.conversations where id = 'a0000000-0000-4000-8000-0000000000d1'), 1,
  'and the triggers keep the counters, though the member cannot write them');
select throws_ok($$update public.conversations set agent_message_count = 99 where id = 'a0000000-0000-4000-8000-0000000000d1'$$,
  '42501', null, 'counters are not writable by members');
select throws_ok($$update public.conversations set last_activity_at = now() - interval '3 days' where id = 'a0000000-0000-4000-8000-0000000000d1'$$,
  '42501', null, 'activity timestamps are not writable by members');
select throws_ok($$insert into public.messages (conversation_id, org_id, sender_type, body, created_at) values ('a0000000-0000-4000-8000-0000000000d1', 'a0000000-0000-4000-8000-000000000001', 'agent', 'backdated', now() - interval '30 days')$$,
  '42501', null, 'members cannot backdate messages');
select lives_ok($$update public.conversations set status = 'queued', priority = 2 where id = 'a0000000-0000-4000-8000-0000000000d1'$$,
  'a member changes status and priority of their own conversation');
-- queued -> bot is allowed since 20261130000420 ("end chat"); the rules are the same for members.
select ok(not public.conversation_transition_allowed('resolved', 'agent') and public.conversation_transition_allowed('queued', 'bot'),
  'and the transition rules hold for members too');
select is((select user_id from public.audit_logs where record_id = 'a0000000-0000-4000-8000-0000000000d1' and operation = 'UPDATE'),
  'a0000000-0000-4000-8000-0000000000a1'::uuid, 'the member''s change is in the trail under their user id');
select throws_ok($$select public.cleanup_abandoned_conversations()$$, '42501', null, 'members cannot close conversations in bulk');

reset role;
select is((select count(*) from public.messages where org_id = 'b0000000-0000-4000-8000-000000000001'), 1::bigint,
  'back as the owner: org B''s messages are untouched');
select is((select summary from public.conversations where id = 'b0000000-0000-4000-8000-0000000000d1'), null,
  'and org B''s conversation too');

-- ---------------------------------------------------------------------------------------------
-- As anon
-- ---------------------------------------------------------------------------------------------
set local role anon;
set local request.jwt.claims = '{"role": "anon"}';
select throws_ok($$select count(*) from public.conversations$$, '42501', null, 'anon cannot read conversations');
select throws_ok($$select count(*) from public.audit_logs$$, '42501', null, 'anon cannot read the audit trail');
reset role;

select * from finish();
rollback;
