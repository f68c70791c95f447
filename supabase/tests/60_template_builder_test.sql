-- The template builder's tables (migration 20261130000600): turns save atomically and refuse a stale
-- turn count, drafts are append-only with every version kept, submissions are one per draft version
-- and retried only after a failure, status events land once on the right submission, members read
-- only their organisation's rows and can set but never read the WABA token, idle sessions expire.
begin;
set local search_path = public, extensions;
select plan(39);

insert into auth.users (id, email) values
  ('c0000000-0000-4000-8000-0000000000a1', 'ana@example.com'),
  ('c0000000-0000-4000-8000-0000000000b1', 'ben@example.com');
insert into public.orgs (id, name) values
  ('c0000000-0000-4000-8000-000000000001', 'Org A'),
  ('c0000000-0000-4000-8000-000000000002', 'Org B');
insert into public.org_members (org_id, user_id, role) values
  ('c0000000-0000-4000-8000-000000000001', 'c0000000-0000-4000-8000-0000000000a1', 'admin'),
  ('c0000000-0000-4000-8000-000000000002', 'c0000000-0000-4000-8000-0000000000b1', 'admin');
insert into public.template_sessions (id, org_id, mode) values
  ('c0000000-0000-4000-8000-0000000000c1', 'c0000000-0000-4000-8000-000000000001', 'guided'),
  ('c0000000-0000-4000-8000-0000000000c2', 'c0000000-0000-4000-8000-000000000002', 'llm');
insert into public.whatsapp_template_accounts (org_id, waba_id, access_token) values
  ('c0000000-0000-4000-8000-000000000001', '102290129340398', 'EAAG-token-of-org-a-0123456789');

-- ---------------------------------------------------------------------------------------------
-- Constraints (as the owner)
-- ---------------------------------------------------------------------------------------------
select throws_ok($$insert into public.template_sessions (org_id, mode, state)
                   values ('c0000000-0000-4000-8000-000000000001', 'guided', 'done')$$,
  '23514', null, 'a session state is gathering, review or final');
select throws_ok($$insert into public.whatsapp_template_accounts (org_id, waba_id, access_token)
                   values ('c0000000-0000-4000-8000-000000000002', '../../me', 'EAAG-token-of-org-b-0123456789')$$,
  '23514', null, 'a WABA id is digits only (it goes into a URL path)');
select throws_ok($$insert into public.template_messages (session_id, org_id, turn, role, content)
                   values ('c0000000-0000-4000-8000-0000000000c1', 'c0000000-0000-4000-8000-000000000002', 1, 'user', 'hi')$$,
  '23503', null, 'a message cannot claim another organisation than its session''s');

-- ---------------------------------------------------------------------------------------------
-- Turns
-- ---------------------------------------------------------------------------------------------
select is(public.record_template_turn('c0000000-0000-4000-8000-0000000000c1', 'c0000000-0000-4000-8000-000000000001', 0,
            'a reminder', 'Which language?', 'gathering', '{"category": "UTILITY"}', '{"category": "UTILITY"}',
            '{"valid": false}', 'guided', '{"category": "\"UTILITY\"", "business_type": "dentist"}', 'asked_language'),
  '{"turn": 1, "version": 1}'::jsonb, 'the first turn saves draft version 1');
select is((select count(*) from public.template_messages where session_id = 'c0000000-0000-4000-8000-0000000000c1'),
  2::bigint, 'a turn stores the user''s message and the reply');
select is((select value from public.template_memory where session_id = 'c0000000-0000-4000-8000-0000000000c1' and key = 'business_type'),
  '"dentist"'::jsonb, 'memory keys are stored');
select is(public.record_template_turn('c0000000-0000-4000-8000-0000000000c1', 'c0000000-0000-4000-8000-000000000001', 1,
            'again', 'Which language?', 'gathering', '{"category": "UTILITY"}', '{"category": "UTILITY"}',
            '{"valid": false}', 'guided', '{"business_type": null}', 'asked_language'),
  '{"turn": 2, "version": 1}'::jsonb, 'an unchanged draft adds no version');
select ok(not exists (select 1 from public.template_memory where session_id = 'c0000000-0000-4000-8000-0000000000c1' and key = 'business_type'),
  'a null memory value deletes the key');
select is(public.record_template_turn('c0000000-0000-4000-8000-0000000000c1', 'c0000000-0000-4000-8000-000000000001', 2,
            'en_US', 'The body?', 'gathering', '{"category": "UTILITY", "language": "en_US"}', '{"category": "UTILITY", "language": "en_US"}',
            '{"valid": false}', 'guided', null, 'asked_body') ->> 'version',
  '2', 'a changed draft adds version 2');
select throws_ok($$select public.record_template_turn('c0000000-0000-4000-8000-0000000000c1', 'c0000000-0000-4000-8000-000000000001', 2,
            'late', 'x', 'gathering', null, null, null, 'guided', null, null)$$,
  '40001', null, 'a turn read before another was saved is refused');
select throws_ok($$select public.record_template_turn('c0000000-0000-4000-8000-0000000000c1', 'c0000000-0000-4000-8000-000000000002', 3,
            'x', 'x', 'gathering', null, null, null, 'guided', null, null)$$,
  'P0002', null, 'another organisation''s session is not found');
select is((select turns from public.template_sessions where id = 'c0000000-0000-4000-8000-0000000000c1'), 3,
  'the session counts its turns');
select throws_ok($$update public.template_drafts set draft = '{}' where session_id = 'c0000000-0000-4000-8000-0000000000c1'$$,
  '42501', null, 'drafts are append-only');
select is((select count(*) from public.template_drafts where session_id = 'c0000000-0000-4000-8000-0000000000c1'),
  2::bigint, 'every version is kept');
select is(public.template_session_state('c0000000-0000-4000-8000-0000000000c1', 'c0000000-0000-4000-8000-000000000001') #>> '{draft,version}',
  '2', 'the state carries the latest draft');
select is(jsonb_array_length(public.template_session_state('c0000000-0000-4000-8000-0000000000c1', 'c0000000-0000-4000-8000-000000000001') -> 'messages'),
  6, 'the state carries the history');
select is(public.template_session_state('c0000000-0000-4000-8000-0000000000c1', 'c0000000-0000-4000-8000-000000000002'),
  null, 'another organisation reads no state');

-- ---------------------------------------------------------------------------------------------
-- Submissions and status events
-- ---------------------------------------------------------------------------------------------
select is(public.begin_template_submission('c0000000-0000-4000-8000-0000000000c1', 'c0000000-0000-4000-8000-000000000001', 2,
            '102290129340398', '{"name": "reminder", "language": "en_US", "category": "utility"}') ->> 'created',
  'true', 'a version is claimed for submission');
select is(public.begin_template_submission('c0000000-0000-4000-8000-0000000000c1', 'c0000000-0000-4000-8000-000000000001', 2,
            '102290129340398', '{"name": "reminder"}') ->> 'created',
  'false', 'a second claim of an in-flight version finds the first');
select is(public.begin_template_submission('c0000000-0000-4000-8000-0000000000c1', 'c0000000-0000-4000-8000-000000000001', 2,
            '102290129340398', '{"name": "reminder"}', now() + interval '5 minutes') ->> 'created',
  'true', 'a submission stuck in flight past the stale limit is claimed again');
select is(public.finish_template_submission((select id from public.template_submissions where draft_version = 2),
            null, 'FAILED', null, '{"code": 100, "subcode": 2388024}') ->> 'status',
  'FAILED', 'a refusal is recorded');
select is(public.begin_template_submission('c0000000-0000-4000-8000-0000000000c1', 'c0000000-0000-4000-8000-000000000001', 2,
            '102290129340398', '{"name": "reminder"}') ->> 'created',
  'true', 'a failed version may be submitted again');
select is(public.finish_template_submission((select id from public.template_submissions where draft_version = 2),
            '546151681022936', 'PENDING', 'UTILITY', null) ->> 'status',
  'PENDING', 'Meta''s id and status are stored');
select throws_ok($$update public.template_submissions set status = 'APPROVED', meta_template_id = null$$,
  '23514', null, 'a reviewed template has Meta''s id');

select is(public.apply_template_status_update('999999', '{"event": "APPROVED", "message_template_id": 546151681022936}') ->> 'matched',
  'false', 'an event from another WABA does not move the submission');
select is(public.apply_template_status_update('102290129340398',
            '{"event": "REJECTED", "message_template_id": 546151681022936, "reason": "INVALID_FORMAT",
              "rejection_info": {"reason": "parameters placed next to each other"}}') ->> 'status',
  'REJECTED', 'a rejection moves the submission');
select is((select rejection_reason from public.template_submissions where meta_template_id = '546151681022936'),
  'INVALID_FORMAT', 'the rejection reason is kept');
select is(public.apply_template_status_update('102290129340398',
            '{"event": "REJECTED", "message_template_id": 546151681022936, "reason": "INVALID_FORMAT",
              "rejection_info": {"reason": "parameters placed next to each other"}}') ->> 'duplicate',
  'true', 'a retried delivery is a duplicate');
select is(public.apply_template_status_update('102290129340398',
            '{"event": "APPROVED", "message_template_id": 546151681022936, "reason": "NONE"}') ->> 'status',
  'APPROVED', 'a later approval moves it on');
select is((select rejection_reason from public.template_submissions where meta_template_id = '546151681022936'),
  null, 'an approval clears the rejection reason');
select is((select count(*) from public.template_status_events where meta_template_id = '546151681022936'),
  3::bigint, 'each distinct event is logged once, unmatched ones included');
select throws_ok($$select public.apply_template_status_update('1', '{"event": "APPROVED"}')$$,
  '22023', null, 'an event without a template id is refused');

-- ---------------------------------------------------------------------------------------------
-- As Ana (member of Org A)
-- ---------------------------------------------------------------------------------------------
set local role authenticated;
set local request.jwt.claims = '{"sub": "c0000000-0000-4000-8000-0000000000a1", "role": "authenticated"}';
select is((select count(*) from public.template_sessions), 1::bigint, 'Ana sees her organisation''s sessions only');
select throws_ok($$select access_token from public.whatsapp_template_accounts$$,
  '42501', null, 'Ana cannot read the WABA token');
select lives_ok($$update public.whatsapp_template_accounts set access_token = 'EAAG-rotated-token-0123456789'
                  where org_id = 'c0000000-0000-4000-8000-000000000001'$$,
  'Ana can rotate the token');
select throws_ok($$insert into public.template_drafts (session_id, org_id, version, draft, payload, validation, source)
                   values ('c0000000-0000-4000-8000-0000000000c1', 'c0000000-0000-4000-8000-000000000001', 9, '{}', '{}', '{}', 'guided')$$,
  '42501', null, 'members do not write drafts directly');
reset role;

-- ---------------------------------------------------------------------------------------------
-- As anon
-- ---------------------------------------------------------------------------------------------
set local role anon;
select throws_ok($$select count(*) from public.template_sessions$$, '42501', null, 'anon reads no sessions');
select throws_ok($$select count(*) from public.whatsapp_template_accounts$$, '42501', null, 'anon reads no accounts');
reset role;

-- ---------------------------------------------------------------------------------------------
-- Retention
-- ---------------------------------------------------------------------------------------------
select is(public.cleanup_idle_template_sessions(now() + interval '91 days'), 2::bigint,
  'sessions idle for 90 days are removed');

select * from finish();
rollback;
