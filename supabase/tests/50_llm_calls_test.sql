-- llm_calls (migration 20261130000050): constraints, organisation isolation under RLS, retention by
-- cleanup_old_llm_calls() with time shifted through p_now, and its registration as a maintenance task.
-- Sections: fixtures and retention as the owner (pg_cron's role); then as Ana (member of A); then anon.
begin;
set local search_path = public, extensions;
select plan(22);

-- ---------------------------------------------------------------------------------------------
-- Fixtures (owner)
-- ---------------------------------------------------------------------------------------------
insert into auth.users (id, email) values
  ('a0000000-0000-4000-8000-0000000000a1', 'ana@a.example');
insert into public.orgs (id, name) values
  ('a0000000-0000-4000-8000-000000000001', 'Org A'),
  ('b0000000-0000-4000-8000-000000000001', 'Org B');
insert into public.org_members (org_id, user_id, role) values
  ('a0000000-0000-4000-8000-000000000001', 'a0000000-0000-4000-8000-0000000000a1', 'owner');
insert into public.conversations (id, org_id, channel, external_id) values
  ('a0000000-0000-4000-8000-0000000000d1', 'a0000000-0000-4000-8000-000000000001', 'web', 'a-1'),
  ('b0000000-0000-4000-8000-0000000000d1', 'b0000000-0000-4000-8000-000000000001', 'web', 'b-1');
insert into public.maintenance_settings (org_id, llm_call_retention) values
  ('b0000000-0000-4000-8000-000000000001', interval '2 days');

insert into public.llm_calls (org_id, conversation_id, purpose, subject_id, model, request, latency_ms, created_at) values
  ('a0000000-0000-4000-8000-000000000001', 'a0000000-0000-4000-8000-0000000000d1', 'chat', 'a-31', 'm', '{}', 10, now() - interval '31 days'),
  ('a0000000-0000-4000-8000-000000000001', 'a0000000-0000-4000-8000-0000000000d1', 'chat', 'a-29', 'm', '{}', 10, now() - interval '29 days'),
  ('a0000000-0000-4000-8000-000000000001', null, 'template', 'a-1', 'm', '{}', 10, now() - interval '1 day'),
  ('b0000000-0000-4000-8000-000000000001', 'b0000000-0000-4000-8000-0000000000d1', 'chat', 'b-3', 'm', '{}', 10, now() - interval '3 days'),
  ('b0000000-0000-4000-8000-000000000001', null, 'chat', 'b-1', 'm', '{}', 10, now() - interval '1 day');

-- Constraints
select throws_ok($$insert into public.llm_calls (org_id, purpose, model, request, latency_ms) values ('a0000000-0000-4000-8000-000000000001', 'gossip', 'm', '{}', 1)$$,
  '23514', null, 'purpose is one of chat, template, knowledge, embedding');
select throws_ok($$insert into public.llm_calls (org_id, purpose, model, request, latency_ms, error_code) values ('a0000000-0000-4000-8000-000000000001', 'chat', 'm', '{}', 1, 'oops')$$,
  '23514', null, 'error_code is one of the LlmError codes');
select throws_ok($$insert into public.llm_calls (org_id, purpose, model, request, latency_ms, error_message) values ('a0000000-0000-4000-8000-000000000001', 'chat', 'm', '{}', 1, 'no code')$$,
  '23514', null, 'an error message needs an error code');
select throws_ok($$insert into public.llm_calls (org_id, conversation_id, purpose, model, request, latency_ms) values ('a0000000-0000-4000-8000-000000000001', 'b0000000-0000-4000-8000-0000000000d1', 'chat', 'm', '{}', 1)$$,
  '23503', null, 'a call cannot belong to another organisation''s conversation');
select lives_ok($$insert into public.llm_calls (org_id, purpose, model, request, latency_ms, error_code, error_message, created_at) values ('a0000000-0000-4000-8000-000000000001', 'embedding', 'm', '{}', 1, 'rate_limited', 'upstream answered 429', now() - interval '1 hour')$$,
  'a failed call is recorded with its code and message');

-- ---------------------------------------------------------------------------------------------
-- As Ana, member of org A
-- ---------------------------------------------------------------------------------------------
set local role authenticated;
set local request.jwt.claims = '{"sub": "a0000000-0000-4000-8000-0000000000a1", "role": "authenticated"}';

select is((select count(*) from public.llm_calls), 4::bigint, 'a member sees her organisation''s calls');
select is((select count(*) from public.llm_calls where org_id <> 'a0000000-0000-4000-8000-000000000001'), 0::bigint,
  'and none of another organisation');
select throws_ok($$insert into public.llm_calls (org_id, purpose, model, request, latency_ms) values ('a0000000-0000-4000-8000-000000000001', 'chat', 'm', '{}', 1)$$,
  '42501', null, 'members cannot write calls, even in their own organisation');
select throws_ok($$delete from public.llm_calls$$, '42501', null, 'members cannot delete calls');
select throws_ok($$update public.llm_calls set model = 'x'$$, '42501', null, 'members cannot change calls');
select throws_ok($$select public.cleanup_old_llm_calls(now() + interval '1000 days')$$, '42501', null,
  'members cannot run retention');
reset role;

-- ---------------------------------------------------------------------------------------------
-- As anon
-- ---------------------------------------------------------------------------------------------
set local role anon;
select throws_ok($$select count(*) from public.llm_calls$$, '42501', null, 'anon cannot read calls');
reset role;

-- ---------------------------------------------------------------------------------------------
-- Retention (owner, as pg_cron)
-- ---------------------------------------------------------------------------------------------
select is(public.cleanup_old_llm_calls(now()), 2::bigint,
  'calls past retention are deleted: 30 days by default, 2 days in org B');
select is(array(select subject_id from public.llm_calls where subject_id is not null order by subject_id),
  array['a-1', 'a-29', 'b-1'], 'younger calls stay');
select is(public.cleanup_old_llm_calls(now()), 0::bigint, 'a second run finds nothing');
select is(public.cleanup_old_llm_calls(now() + interval '2 days', 1, 1), 1::bigint,
  'one batch of one row when the bounds say so');
select is(public.cleanup_old_llm_calls(now() + interval '2 days'), 1::bigint, 'the next run takes the rest that is due');
select throws_ok($$select public.cleanup_old_llm_calls(null)$$, '22023', null, 'p_now must be given');
select throws_ok($$insert into public.maintenance_settings (org_id, llm_call_retention) values ('a0000000-0000-4000-8000-000000000001', interval '0')$$,
  '23514', null, 'a retention period is positive');

delete from public.conversations where id = 'a0000000-0000-4000-8000-0000000000d1';
select is((select count(*) from public.llm_calls where org_id = 'a0000000-0000-4000-8000-000000000001' and conversation_id is null),
  (select count(*) from public.llm_calls where org_id = 'a0000000-0000-4000-8000-000000000001'),
  'deleting a conversation keeps its calls, unlinked');

select is((select (r #> '{llm_calls,rows}')::bigint from (select public.run_maintenance_tasks(now() + interval '40 days') as r) x),
  2::bigint, 'run_maintenance_tasks runs the llm_calls task: 40 days on, the two calls left are due');
select ok(has_function_privilege('service_role', 'public.cleanup_old_llm_calls(timestamptz, int, int)', 'execute')
          and not has_function_privilege('authenticated', 'public.cleanup_old_llm_calls(timestamptz, int, int)', 'execute')
          and not has_function_privilege('anon', 'public.cleanup_old_llm_calls(timestamptz, int, int)', 'execute'),
  'only the service role may call cleanup_old_llm_calls');

select * from finish();
rollback;
