-- Foundation schema: every table has RLS, members see only their organisations, stored phone numbers
-- are E.164 whoever writes them, and the webhook's SQL functions are for the service role only.
begin;
set local search_path = public, extensions;
select plan(30);

-- Schema ------------------------------------------------------------------------------------------
select has_table('public', t, format('table %s exists', t))
from unnest(array['orgs', 'org_members', 'phone_numbers', 'ai_dispatcher_configs', 'clients', 'jobs',
                  'webhook_logs', 'call_records']) as t;

select is(
  (select count(*)::int from pg_class c join pg_namespace n on n.oid = c.relnamespace
    where n.nspname = 'public' and c.relkind = 'r' and not c.relrowsecurity),
  0,
  'row-level security is enabled on every public table');

-- Fixtures: two organisations, one member each ----------------------------------------------------
insert into auth.users (id, email) values
  ('aaaaaaaa-0000-4000-8000-000000000001', 'agent-a@example.com'),
  ('bbbbbbbb-0000-4000-8000-000000000001', 'agent-b@example.com');
insert into public.orgs (id, name, default_country) values
  ('aaaaaaaa-0000-4000-8000-0000000000aa', 'Org A', 'CA'),
  ('bbbbbbbb-0000-4000-8000-0000000000bb', 'Org B', 'GB');
insert into public.org_members (org_id, user_id) values
  ('aaaaaaaa-0000-4000-8000-0000000000aa', 'aaaaaaaa-0000-4000-8000-000000000001'),
  ('bbbbbbbb-0000-4000-8000-0000000000bb', 'bbbbbbbb-0000-4000-8000-000000000001');
insert into public.phone_numbers (id, org_id, phone_number) values
  ('aaaaaaaa-0000-4000-8000-0000000000a1', 'aaaaaaaa-0000-4000-8000-0000000000aa', '(416) 555-0100'),
  ('bbbbbbbb-0000-4000-8000-0000000000b1', 'bbbbbbbb-0000-4000-8000-0000000000bb', '020 7946 0100'),
  ('bbbbbbbb-0000-4000-8000-0000000000b2', 'bbbbbbbb-0000-4000-8000-0000000000bb', '020 7946 0200');
insert into public.ai_dispatcher_configs (phone_number_id, org_id, company_name) values
  ('aaaaaaaa-0000-4000-8000-0000000000a1', 'aaaaaaaa-0000-4000-8000-0000000000aa', 'A Co'),
  ('bbbbbbbb-0000-4000-8000-0000000000b1', 'bbbbbbbb-0000-4000-8000-0000000000bb', 'B Co');
insert into public.clients (id, org_id, name, phone) values
  ('aaaaaaaa-0000-4000-8000-0000000000c1', 'aaaaaaaa-0000-4000-8000-0000000000aa', 'Client A', '416.555.0199'),
  ('bbbbbbbb-0000-4000-8000-0000000000c1', 'bbbbbbbb-0000-4000-8000-0000000000bb', 'Client B', '07911 123456');
insert into public.jobs (org_id, client_id, status, total_amount) values
  ('aaaaaaaa-0000-4000-8000-0000000000aa', 'aaaaaaaa-0000-4000-8000-0000000000c1', 'completed', 100),
  ('bbbbbbbb-0000-4000-8000-0000000000bb', 'bbbbbbbb-0000-4000-8000-0000000000c1', 'completed', 200);

-- Normalisation ----------------------------------------------------------------------------------
select is((select phone_e164 from public.clients where name = 'Client A'), '+14165550199',
  'a client phone typed the North American way is stored as E.164');
select is((select phone_e164 from public.clients where name = 'Client B'), '+447911123456',
  'a client phone typed the UK way is stored as E.164 with the organisation''s country');
select is((select phone_e164 from public.phone_numbers where id = 'bbbbbbbb-0000-4000-8000-0000000000b1'), '+442079460100',
  'an AI-answered number is stored as E.164');
update public.clients set phone = '+1 (647) 555-0123' where name = 'Client A';
select is((select phone_e164 from public.clients where name = 'Client A'), '+16475550123',
  'changing the phone changes the stored E.164');
select throws_ok(
  $$insert into public.jobs (org_id, client_id) values ('aaaaaaaa-0000-4000-8000-0000000000aa', 'bbbbbbbb-0000-4000-8000-0000000000c1')$$,
  '23503', null, 'a job cannot belong to one organisation and a client of another');
select throws_ok(
  $$insert into public.ai_dispatcher_configs (phone_number_id, org_id, company_name) values ('bbbbbbbb-0000-4000-8000-0000000000b2', 'aaaaaaaa-0000-4000-8000-0000000000aa', 'X')$$,
  '23503', null, 'a dispatcher config cannot pair one organisation with another''s number');

-- Acting as the member of org A -------------------------------------------------------------------
set local role authenticated;
set local request.jwt.claims = '{"sub": "aaaaaaaa-0000-4000-8000-000000000001", "role": "authenticated"}';

select is((select count(*)::int from public.orgs), 1, 'A sees one organisation');
select is((select name from public.orgs), 'Org A', 'A sees its own organisation');
select is((select count(*)::int from public.clients), 1, 'A sees only its clients');
select is((select count(*)::int from public.jobs), 1, 'A sees only its jobs');
select is((select count(*)::int from public.phone_numbers), 1, 'A sees only its numbers');
select is((select count(*)::int from public.ai_dispatcher_configs), 1, 'A sees only its dispatcher configs');
select is((select count(*)::int from public.clients where org_id = 'bbbbbbbb-0000-4000-8000-0000000000bb'), 0,
  'asking for B''s clients by id gives nothing');
select throws_ok(
  $$insert into public.clients (org_id, name) values ('bbbbbbbb-0000-4000-8000-0000000000bb', 'Planted')$$,
  '42501', null, 'A cannot add a client to B');
update public.clients set name = 'Renamed' where org_id = 'bbbbbbbb-0000-4000-8000-0000000000bb';
delete from public.jobs where org_id = 'bbbbbbbb-0000-4000-8000-0000000000bb';
select lives_ok(
  $$insert into public.clients (org_id, name, phone) values ('aaaaaaaa-0000-4000-8000-0000000000aa', 'New A', '416 555 0142')$$,
  'A can add a client to its own organisation');
select is((select phone_e164 from public.clients where name = 'New A'), '+14165550142',
  'a client added through RLS is normalised too');
select throws_ok($$select public.caller_context('aaaaaaaa-0000-4000-8000-0000000000aa', '+14165550199')$$,
  '42501', null, 'dashboard users cannot call the webhook''s caller lookup');
select throws_ok($$select public.dispatcher_config('+14165550100')$$,
  '42501', null, 'dashboard users cannot call the webhook''s config lookup');

-- Back to the owner: B's rows were not touched ----------------------------------------------------
reset role;
select is((select name from public.clients where id = 'bbbbbbbb-0000-4000-8000-0000000000c1'), 'Client B',
  'A''s update did not reach B''s client');
select is((select count(*)::int from public.jobs where org_id = 'bbbbbbbb-0000-4000-8000-0000000000bb'), 1,
  'A''s delete did not reach B''s jobs');

-- Anonymous visitors see nothing ------------------------------------------------------------------
set local role anon;
select throws_ok($$select count(*) from public.clients$$, '42501', null, 'anon cannot read clients at all');
reset role;

select * from finish();
rollback;
