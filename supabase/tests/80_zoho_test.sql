-- Zoho SalesIQ and Desk in SQL (20261130000800_zoho.sql): SalesIQ ingest once per request id, the
-- hold on replies the webhook may answer itself, the Desk hand-over of callbacks (one outbox row per
-- callback), the close queued when a SalesIQ chat is resolved, the single-flight token refresh and
-- its quota, sealed-only credentials, and who may read what.
-- Sections: fixtures and the service-side functions as the owner; then as Ana (member of org A).
begin;
set local search_path = public, extensions;
select plan(25);

insert into auth.users (id, email) values ('a0000000-0000-4000-8000-0000000000a1', 'ana@a.example');
insert into public.orgs (id, name, default_country, timezone) values
  ('a0000000-0000-4000-8000-000000000001', 'Org A', 'CA', 'America/Toronto'),
  ('b0000000-0000-4000-8000-000000000001', 'Org B', 'CA', 'America/Toronto');
insert into public.org_members (org_id, user_id) values
  ('a0000000-0000-4000-8000-000000000001', 'a0000000-0000-4000-8000-0000000000a1');
insert into public.zoho_settings (org_id, webhook_key, desk_enabled) values
  ('a0000000-0000-4000-8000-000000000001', 'key-org-a-123', true),
  ('b0000000-0000-4000-8000-000000000001', 'key-org-b-123', false);

-- ---------------------------------------------------------------------------------------------
-- SalesIQ ingest
-- ---------------------------------------------------------------------------------------------
select is(public.salesiq_settings_for_key('key-org-a-123') ->> 'org_id', 'a0000000-0000-4000-8000-000000000001',
  'a webhook key finds its organisation');
select is(public.salesiq_settings_for_key('nope-nope-nope'), null, 'an unknown key finds nothing');
select throws_ok($$insert into public.zoho_settings (org_id, webhook_key) values ('b0000000-0000-4000-8000-000000000001', 'short')$$,
  '23514', null, 'a short webhook key is refused');

create temporary table i1 as select public.salesiq_ingest('a0000000-0000-4000-8000-000000000001',
  '{"conversation_id": "900001", "request_id": "r1", "text": "hello", "metadata": {"salesiq_request_id": "r1"},
    "visitor": {"name": "Jane Cooper", "phone": "416 555 0199", "email": "jane@example.com"}}') as r;
create temporary table i2 as select public.salesiq_ingest('a0000000-0000-4000-8000-000000000001',
  '{"conversation_id": "900001", "request_id": "r1", "text": "hello", "visitor": {}}') as r;
select is((select r ->> 'duplicate' from i1), 'false', 'a SalesIQ message is stored');
select is((select r ->> 'duplicate' from i2), 'true', 'the same request id is stored once');
select is((select channel || ' ' || customer_phone || ' ' || (metadata ->> 'customer_name') from public.conversations
           where external_id = '900001'), 'salesiq +14165550199 Jane Cooper',
  'the conversation is a salesiq one with the visitor''s phone in E.164 and name');
select is(public.salesiq_ingest('a0000000-0000-4000-8000-000000000001', '{"text": "x"}') ->> 'error',
  'conversation_id_missing', 'a message without a conversation id is refused');

-- ---------------------------------------------------------------------------------------------
-- Held replies, inline answers, release
-- ---------------------------------------------------------------------------------------------
insert into public.outbox (org_id, conversation_id, channel, recipient, payload, idempotency_key)
select org_id, id, 'salesiq', external_id, '{"request_id": "r1", "hold_seconds": 12, "text": "hi"}', 'reply:test:1'
from public.conversations where external_id = '900001';
select ok((select next_attempt_at > now() + interval '11 seconds' from public.outbox where idempotency_key = 'reply:test:1'),
  'a reply with hold_seconds is not due before then');
select is(public.salesiq_take_inline(array[(select id from public.outbox where idempotency_key = 'reply:test:1')], 'r1'), 1,
  'the webhook takes a held reply it answered itself');
select is((select status || ' ' || provider_message_id from public.outbox where idempotency_key = 'reply:test:1'),
  'sent inline:r1:' || (select id from public.outbox where idempotency_key = 'reply:test:1'), 'it is marked sent inline');
select is(public.salesiq_take_inline(array[(select id from public.outbox where idempotency_key = 'reply:test:1')], 'r1'), 0,
  'a reply cannot be taken twice');

-- ---------------------------------------------------------------------------------------------
-- Callbacks to Desk, closes to SalesIQ
-- ---------------------------------------------------------------------------------------------
select public.chat_schedule_callback((select id from public.conversations where external_id = '900001'),
  '{"scheduled_for": "2030-01-01T19:00:00Z", "timezone": "America/Toronto", "phone": "+14165550199",
    "subject": "Callback: furnace noise", "description": "d"}', 'rules');
select public.chat_schedule_callback((select id from public.conversations where external_id = '900001'),
  '{"scheduled_for": "2030-01-01T19:00:00Z", "timezone": "America/Toronto", "phone": "+14165550199",
    "subject": "Callback: furnace noise", "description": "d"}', 'llm');
select is((select provider || ' ' || provider_status from public.callbacks cb join public.conversations c on c.id = cb.conversation_id
           where c.external_id = '900001'), 'zoho_desk queued', 'a callback of an organisation with Desk goes to Desk');
select is((select count(*)::int from public.outbox where kind = 'desk_call'), 1, 'asking twice queues one Desk call');
select is((select idempotency_key from public.outbox where kind = 'desk_call'),
  'desk-call:' || (select id from public.callbacks limit 1), 'keyed by the callback');
select public.zoho_desk_record((select id from public.callbacks limit 1), 'created', '111');
select public.zoho_desk_record((select id from public.callbacks limit 1), 'created', '222');
select is((select provider_ref from public.callbacks limit 1), '111', 'a Desk call id, once stored, is never replaced');

select public.chat_close_conversation((select id from public.conversations where external_id = '900001'), 'fixed', 'rules');
select is((select count(*)::int from public.outbox where kind = 'close' and channel = 'salesiq'), 1,
  'resolving a SalesIQ chat queues SalesIQ''s close');

-- ---------------------------------------------------------------------------------------------
-- Tokens: sealed only, one refresh at a time, the quota
-- ---------------------------------------------------------------------------------------------
select throws_ok($$insert into public.zoho_credentials (org_id, product, refresh_token_sealed)
                  values ('a0000000-0000-4000-8000-000000000001', 'desk', '1000.clear.token')$$,
  '23514', null, 'a clear-text token cannot be stored');
create temporary table l1 as select public.zoho_refresh_begin('a0000000-0000-4000-8000-000000000001', 'desk', 0) as r;
select is((select r ->> 'state' from l1), 'refresh', 'the first caller gets the refresh lease');
select is(public.zoho_refresh_begin('a0000000-0000-4000-8000-000000000001', 'desk', 0) ->> 'state', 'wait',
  'a second caller waits');
select isnt(public.zoho_refresh_complete('a0000000-0000-4000-8000-000000000001', 'desk', (select (r ->> 'lease')::uuid from l1),
  'v1.aaaa.bbbb', now() + interval '1 hour'), null, 'the lease holder stores the new token');
select is(public.zoho_refresh_begin('a0000000-0000-4000-8000-000000000001', 'desk', 0) ->> 'state', 'fresh',
  'a caller that saw the old version gets the new token');
update public.zoho_credentials set refresh_count = 10, refresh_window_start = now() - interval '1 minute'
  where org_id = 'a0000000-0000-4000-8000-000000000001' and product = 'desk';
select is(public.zoho_refresh_begin('a0000000-0000-4000-8000-000000000001', 'desk', 1) ->> 'state', 'quota',
  'the 11th refresh in 10 minutes is refused');
select is(public.zoho_refresh_begin('a0000000-0000-4000-8000-000000000001', 'desk', 1, 15, now() + interval '11 minutes') ->> 'state',
  'refresh', 'a new window allows refreshing again');

-- ---------------------------------------------------------------------------------------------
-- As Ana (member of org A)
-- ---------------------------------------------------------------------------------------------
set local role authenticated;
select set_config('request.jwt.claims', '{"sub": "a0000000-0000-4000-8000-0000000000a1", "role": "authenticated"}', true);
select is((select count(*)::int from public.zoho_settings), 1, 'a member sees her organisation''s Zoho settings only');
select throws_ok($$select * from public.zoho_credentials$$, '42501', null, 'credentials are the service role''s alone');
reset role;

select * from finish();
rollback;
