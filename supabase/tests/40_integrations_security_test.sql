-- Integrations and webhook security state (migration 20261123000400): members manage their own
-- organisation's integrations but can never read or probe a secret; events are readable per
-- organisation and unique per event id; the replay guard, rate-limit counters and metrics are the
-- service role's alone; rate_limit_hit() counts all keys or none.
begin;
set local search_path = public, extensions;
select plan(33);

insert into auth.users (id, email) values
  ('b0000000-0000-4000-8000-0000000000a1', 'ana@example.com'),
  ('b0000000-0000-4000-8000-0000000000b1', 'ben@example.com');
insert into public.orgs (id, name) values
  ('b0000000-0000-4000-8000-000000000001', 'Org A'),
  ('b0000000-0000-4000-8000-000000000002', 'Org B');
insert into public.org_members (org_id, user_id, role) values
  ('b0000000-0000-4000-8000-000000000001', 'b0000000-0000-4000-8000-0000000000a1', 'admin'),
  ('b0000000-0000-4000-8000-000000000002', 'b0000000-0000-4000-8000-0000000000b1', 'admin');
insert into public.integrations (id, org_id, name, scheme, secret, allowed_ips) values
  ('b0000000-0000-4000-8000-0000000000e1', 'b0000000-0000-4000-8000-000000000001', 'shop', 'standard-webhooks',
   'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', '{10.0.0.0/8}'),
  ('b0000000-0000-4000-8000-0000000000e2', 'b0000000-0000-4000-8000-000000000002', 'legacy', 'legacy-hmac',
   'legacy-secret-0123456789', '{}');

-- ---------------------------------------------------------------------------------------------
-- Constraints (as the owner)
-- ---------------------------------------------------------------------------------------------
select throws_ok($$insert into public.integrations (org_id, name, scheme, secret)
                   values ('b0000000-0000-4000-8000-000000000001', 'x', 'standard-webhooks', 'not-a-whsec-secret')$$,
  '23514', null, 'a Standard Webhooks secret must be whsec_ + base64');
select throws_ok($$insert into public.integrations (org_id, name, scheme, secret)
                   values ('b0000000-0000-4000-8000-000000000001', 'y', 'legacy-hmac', 'short')$$,
  '23514', null, 'a legacy secret must be at least 16 characters');
select throws_ok($$insert into public.integrations (org_id, name, scheme, secret)
                   values ('b0000000-0000-4000-8000-000000000001', 'z', 'basic-auth', 'legacy-secret-0123456789')$$,
  '23514', null, 'only the known schemes are accepted');
select throws_ok($$insert into public.integrations (org_id, name, scheme, secret, allowed_ips)
                   values ('b0000000-0000-4000-8000-000000000001', 'w', 'legacy-hmac', 'legacy-secret-0123456789', '{10.0.0.1/8}')$$,
  '22P02', null, 'an allow-list entry with host bits set is not a network');
select is((select rate_limit_per_minute from public.integrations where id = 'b0000000-0000-4000-8000-0000000000e1'),
  60, 'the rate limit defaults to 60 per minute');

insert into public.integration_events (integration_id, org_id, event_id, event_type, occurred_at, data) values
  ('b0000000-0000-4000-8000-0000000000e1', 'b0000000-0000-4000-8000-000000000001', 'evt-1', 'order.created', now(), '{}'),
  ('b0000000-0000-4000-8000-0000000000e2', 'b0000000-0000-4000-8000-000000000002', 'evt-1', 'order.created', now(), '{}');
select throws_ok($$insert into public.integration_events (integration_id, org_id, event_id, event_type, occurred_at, data)
                   values ('b0000000-0000-4000-8000-0000000000e1', 'b0000000-0000-4000-8000-000000000001', 'evt-1', 'x', now(), '{}')$$,
  '23505', null, 'an event id is stored once per integration');
select throws_ok($$insert into public.integration_events (integration_id, org_id, event_id, event_type, occurred_at, data)
                   values ('b0000000-0000-4000-8000-0000000000e1', 'b0000000-0000-4000-8000-000000000002', 'evt-9', 'x', now(), '{}')$$,
  '23503', null, 'an event cannot claim another organisation than its integration''s');

-- ---------------------------------------------------------------------------------------------
-- What the service role's functions do
-- ---------------------------------------------------------------------------------------------
select is(public.ingest_integration_event('b0000000-0000-4000-8000-0000000000e1', 'evt-2', 'order.created', now(),
            '{"a": 1}', 'msg_1', 'req-1', 600) ->> 'duplicate', 'false', 'a new event is stored');
select is(public.ingest_integration_event('b0000000-0000-4000-8000-0000000000e1', 'evt-3', 'order.created', now(),
            '{"a": 1}', 'msg_1', 'req-2', 600) ->> 'duplicate', 'true', 'a replayed delivery id is a duplicate, whatever the event');
select is(public.ingest_integration_event('b0000000-0000-4000-8000-0000000000e1', 'evt-2', 'order.created', now(),
            '{"a": 1}', 'msg_2', 'req-3', 600) ->> 'duplicate', 'true', 'a stored event id is a duplicate under a new delivery id');
select is((select count(*) from public.integration_events where integration_id = 'b0000000-0000-4000-8000-0000000000e1'),
  2::bigint, 'duplicates wrote no row');
select is(public.ingest_integration_event(gen_random_uuid(), 'evt-1', 't', now(), '{}') ->> 'missing', 'true',
  'an unknown integration is reported as missing');
select is(public.integration_for_webhook('b0000000-0000-4000-8000-0000000000e1') ->> 'allowed_ips', '["10.0.0.0/8"]',
  'the webhook reads the allow-list as text');

select is(public.rate_limit_hit(array['t:a', 't:b'], array[1, 5], 60) ->> 'allowed', 'true', 'first request admitted');
select is(public.rate_limit_hit(array['t:a', 't:b'], array[1, 5], 60) ->> 'allowed', 'false', 'second refused by the tighter key');
select is((select count from public.rate_limit_counters where key = 't:b'), 1,
  'the refused request was not counted against the other key');
select throws_ok($$select public.rate_limit_hit(array['k'], array[1, 2], 60)$$, '22023', null,
  'keys and limits must pair up');
select ok(public.claim_replay('scope', 'id-1') and not public.claim_replay('scope', 'id-1'),
  'a replay id is claimed once');

-- ---------------------------------------------------------------------------------------------
-- As Ana (member of Org A)
-- ---------------------------------------------------------------------------------------------
set local role authenticated;
set local request.jwt.claims = '{"sub": "b0000000-0000-4000-8000-0000000000a1", "role": "authenticated"}';

select results_eq($$select name from public.integrations$$, array['shop'], 'Ana sees her organisation''s integration only');
select throws_ok($$select secret from public.integrations$$, '42501', null, 'Ana cannot read a secret');
select throws_ok($$select * from public.integrations$$, '42501', null, 'select * is refused too: it includes the secret');
select throws_ok($$update public.integrations set enabled = false where secret like 'whsec_%'$$, '42501', null,
  'Ana cannot probe the secret through a WHERE clause');
select lives_ok($$update public.integrations set secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSx', rate_limit_per_minute = 120
                  where id = 'b0000000-0000-4000-8000-0000000000e1'$$, 'Ana can rotate the secret and change the limit');
select lives_ok($$insert into public.integrations (org_id, name, scheme, secret)
                  values ('b0000000-0000-4000-8000-000000000001', 'crm', 'legacy-hmac', 'another-legacy-secret-000')$$,
  'Ana can add an integration to her organisation');
select throws_ok($$insert into public.integrations (org_id, name, scheme, secret)
                   values ('b0000000-0000-4000-8000-000000000002', 'evil', 'legacy-hmac', 'another-legacy-secret-000')$$,
  '42501', null, 'Ana cannot add an integration to another organisation');
select results_eq($$select event_id from public.integration_events order by event_id$$, array['evt-1', 'evt-2'],
  'Ana reads her organisation''s events only');
select throws_ok($$select public.integration_for_webhook('b0000000-0000-4000-8000-0000000000e2')$$, '42501', null,
  'Ana cannot call the function that returns secrets');
select throws_ok($$select * from public.replay_guard$$, '42501', null, 'the replay guard is not readable');
select throws_ok($$select public.rate_limit_hit(array['x'], array[1], 60)$$, '42501', null, 'nor can she drive the limiter');
select throws_ok($$select public.report_breakers('x', '[]')$$, '42501', null, 'nor report breaker states');

reset role;
select is((select rate_limit_per_minute from public.integrations where id = 'b0000000-0000-4000-8000-0000000000e1'),
  120, 'her change was applied');

-- Expired replay ids are removed by the scheduled maintenance run ---------------------------------
reset role;
insert into public.replay_guard (scope, id, expires_at) values
  ('maintenance-test', 'expired', now() - interval '1 minute'),
  ('maintenance-test', 'current', now() + interval '10 minutes');
select ok(public.run_maintenance_tasks() ? 'security_state', 'run_maintenance_tasks() runs the security-state pruning');
select is((select array_agg(id) from public.replay_guard where scope = 'maintenance-test'), array['current'],
  'it removed the expired replay id and kept the current one');

select * from finish();
rollback;
