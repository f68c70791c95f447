-- The chat pipeline's SQL (migrations 20261130000100-0310): storing a message and its job once,
-- claims and leases, completing a job once, the idempotent actions, the outbox's leases and
-- delivery statuses, idle bot memory, and organisation isolation.
-- Sections: fixtures and the service-side functions as the owner; then as Ana (member of org A).
begin;
set local search_path = public, extensions;
select plan(48);

insert into auth.users (id, email) values ('a0000000-0000-4000-8000-0000000000a1', 'ana@a.example');
insert into public.orgs (id, name, default_country, timezone) values
  ('a0000000-0000-4000-8000-000000000001', 'Org A', 'CA', 'America/Toronto'),
  ('b0000000-0000-4000-8000-000000000001', 'Org B', 'CA', 'America/Toronto');
insert into public.org_members (org_id, user_id) values
  ('a0000000-0000-4000-8000-000000000001', 'a0000000-0000-4000-8000-0000000000a1');
insert into public.chat_sites (org_id, site_key) values
  ('a0000000-0000-4000-8000-000000000001', 'site-a'),
  ('b0000000-0000-4000-8000-000000000001', 'site-b');
insert into public.whatsapp_numbers (org_id, phone_number_id, access_token) values
  ('a0000000-0000-4000-8000-000000000001', '200000000000001', 'secret-token-a'),
  ('b0000000-0000-4000-8000-000000000001', '200000000000002', 'secret-token-b');

-- ---------------------------------------------------------------------------------------------
-- Sessions and ingest
-- ---------------------------------------------------------------------------------------------
create temporary table s as
  select public.chat_start_session('site-a', sha256('token-1'), '{"name": "Jane", "phone": "416 555 0199"}', 'America/Vancouver') as r;
select ok((select r ? 'session_id' from s), 'a web session starts for an enabled site');
select is((select customer_phone from public.conversations where id = (select (r->>'conversation_id')::uuid from s)),
  '+14165550199', 'the customer''s phone is stored in E.164');
select is(public.chat_start_session('no-site', sha256('x'), '{}', null), '{"error": "site_not_found"}'::jsonb,
  'an unknown site key starts nothing');
select is((public.chat_session_for_token(sha256('token-1')))->>'session_id', (select r->>'session_id' from s),
  'the token''s hash finds its session');
select is(public.chat_session_for_token(sha256('token-2')), null, 'another token finds nothing');

create temporary table w as select public.whatsapp_ingest('200000000000001',
  '[{"wamid": "wamid.1", "from": "14165550111", "name": "Sam", "body": "hello", "metadata": {}, "timestamp": "1764500000"},
    {"wamid": "wamid.1", "from": "14165550111", "name": "Sam", "body": "hello", "metadata": {}, "timestamp": "1764500000"},
    {"wamid": "wamid.2", "from": "14165550111", "name": "Sam", "body": "are you there?", "metadata": {}}]') as r;
select is((select jsonb_path_query_array(r, '$.results[*].duplicate') from w), '[false, true, false]'::jsonb,
  'a replayed wamid in the same batch is stored once');
select is((select count(*)::int from public.inbound_jobs where org_id = 'a0000000-0000-4000-8000-000000000001'), 2,
  'each new message has one job');
select is(public.whatsapp_ingest('999', '[]'), '{"error": "unknown_number"}'::jsonb, 'an unknown number stores nothing');
select is((select metadata->>'wa_id' from public.conversations where external_id = '200000000000001:14165550111'),
  '14165550111', 'the WhatsApp thread keeps the customer''s wa_id');

-- The inbox: accepted before the answer, moved into conversations after it.
create temporary table acc as select public.whatsapp_accept('200000000000001',
  '[{"wamid": "wamid.9", "from": "14165550177", "body": "hi", "metadata": {}},
    {"wamid": "wamid.9", "from": "14165550177", "body": "hi", "metadata": {}},
    {"wamid": "wamid.1", "from": "14165550111", "body": "hello", "metadata": {}}]') as r;
select is((select jsonb_array_length(r->'accepted') from acc), 1, 'the inbox takes a new wamid once');
select is((select (r->>'duplicates')::int from acc), 2, 'a replay in the batch and a wamid already stored are duplicates');
select is(public.whatsapp_accept('999', '[]'), '{"known": false}'::jsonb, 'an unknown number is not accepted');
select is((public.whatsapp_process_inbox((select array(select jsonb_array_elements_text(r->'accepted')::bigint) from acc)))->>'moved',
  '1', 'the accepted rows move into their conversations');
select ok(exists (select 1 from public.messages where provider_message_id = 'wamid.9'), 'the moved message is stored with its wamid');
select is((select count(*)::int from public.whatsapp_inbox where moved_at is null), 0, 'and is marked moved');
select is((public.whatsapp_accept('200000000000001', '[{"wamid": "wamid.9", "from": "14165550177", "body": "hi", "metadata": {}}]')->>'duplicates')::int, 1,
  'a replay after the move is still known');

-- ---------------------------------------------------------------------------------------------
-- Claims, leases, completion
-- ---------------------------------------------------------------------------------------------
create temporary table conv as select id from public.conversations where external_id = '200000000000001:14165550111';
create temporary table c1 as select public.chat_claim_next((select id from conv), 60) as r;
select is((select (r->'job'->>'message_id')::bigint from c1),
  (select min(message_id) from public.inbound_jobs where conversation_id = (select id from conv)),
  'the oldest message of the conversation is claimed first');
select is((select jsonb_array_length(r->'history') from c1), 1, 'the history stops at the claimed message');
select is(public.chat_claim_next((select id from conv), 60), null, 'a live lease keeps a second worker out');
select is(public.chat_complete_job((select (r->'job'->>'message_id')::bigint from c1), gen_random_uuid(), '[]', null),
  '{"error": "lease_lost"}'::jsonb, 'completing with someone else''s lease writes nothing');
select ok(public.chat_complete_job((select (r->'job'->>'message_id')::bigint from c1), (select (r->'job'->>'lease_token')::uuid from c1),
  '[{"body": "Hi Sam", "metadata": {}}]', '{"callback": {"asked": 1, "source": "rules"}}',
  '{"channel": "whatsapp", "recipient": "14165550111", "payload": {"phone_number_id": "200000000000001"}}') ? 'replies',
  'the lease holder completes the job');
select is((select count(*)::int from public.outbox where conversation_id = (select id from conv)), 1, 'the reply is queued once');
select is((select payload->>'text' from public.outbox where conversation_id = (select id from conv)), 'Hi Sam',
  'the outbox row carries the reply''s text');
select ok(exists (select 1 from public.bot_memory where conversation_id = (select id from conv)), 'the memory is kept');

-- A worker that died: its lease runs out and the job is claimable again, by the sweep.
create temporary table c2 as select public.chat_claim_next((select id from conv), 60) as r;
update public.inbound_jobs set locked_until = now() - interval '1 second', created_at = now() - interval '1 minute'
  where message_id = (select (r->'job'->>'message_id')::bigint from c2);
select ok((select id from conv) in (select public.chat_due_conversations(now(), interval '10 seconds', 10)),
  'the sweep finds a message whose lease ran out');
create temporary table c3 as select public.chat_claim_next((select id from conv), 60) as r;
select is((select (r->'job'->>'attempts')::int from c3), 2, 'the retried claim counts the attempt');
select is(public.chat_complete_job((select (r->'job'->>'message_id')::bigint from c2), (select (r->'job'->>'lease_token')::uuid from c2), '[]', null),
  '{"error": "lease_lost"}'::jsonb, 'the dead worker coming back late cannot complete');

-- ---------------------------------------------------------------------------------------------
-- Actions
-- ---------------------------------------------------------------------------------------------
create temporary table cb_payload as select jsonb_build_object(
  'scheduled_for', now() + interval '1 day', 'timezone', 'America/Toronto', 'phone', '+14165550199',
  'subject', 'Callback: no heat', 'description', 'd') as p;
select ok((public.chat_schedule_callback((select id from conv), (select p from cb_payload), 'button')->>'created')::boolean,
  'the first callback request creates it');
select ok(not (public.chat_schedule_callback((select id from conv), (select p from cb_payload), 'llm')->>'created')::boolean,
  'a second request (the LLM) gets the same callback');
select is((select count(*)::int from public.callbacks where conversation_id = (select id from conv)), 1, 'one callback row');
select throws_ok($$select public.chat_schedule_callback((select id from conv),
  (select p || '{"subject": "Callback: None"}' from cb_payload), 'rules')$$, '23514', null,
  'a subject that says None is refused by the database');
update public.callbacks set status = 'completed' where conversation_id = (select id from conv);
select ok((public.chat_schedule_callback((select id from conv), (select p from cb_payload), 'rules')->>'created')::boolean,
  'after the first is done a new one can be scheduled');

select ok((public.chat_request_handoff((select id from conv), 2::smallint, 'needs a plumber', 'rules')->>'changed')::boolean,
  'a hand-over queues the conversation');
select ok(not (public.chat_request_handoff((select id from conv), 1::smallint, 'again', 'button')->>'changed')::boolean,
  'a second hand-over changes nothing');
select is((select (status, priority, summary)::text from public.conversations where id = (select id from conv)),
  '(queued,2,"needs a plumber")', 'queued with its priority and summary, not lowered by the second request');
select ok((public.chat_close_conversation((select id from conv), 'all good', 'rules')->>'changed')::boolean, 'close resolves');
select is((select metadata->>'close_reason' from public.conversations where id = (select id from conv)), 'all good',
  'the customer''s words are kept');

-- ---------------------------------------------------------------------------------------------
-- Outbox leases and delivery statuses
-- ---------------------------------------------------------------------------------------------
create temporary table o1 as select public.outbox_claim(null, 10, 60, array['whatsapp']) as r;
select is((select r->0->'credentials'->>'access_token' from o1), 'secret-token-a', 'the claim brings the number''s token');
select is(jsonb_array_length(public.outbox_claim(null, 10, 60, array['whatsapp'])), 0, 'a claimed row is not claimed twice');
select ok(public.outbox_complete((select (r->0->>'id')::bigint from o1), (select (r->0->>'lease_token')::uuid from o1), 'sent', 'wamid.OUT1'),
  'the lease holder records the send');
select is(public.outbox_record_delivery('whatsapp', '[{"id": "wamid.OUT1", "status": "read"}, {"id": "wamid.OUT1", "status": "delivered"}]'), 1,
  'statuses apply in order of progress');
select is((select delivery_status from public.outbox where provider_message_id = 'wamid.OUT1'), 'read', 'read is not undone by delivered');

-- Retention: done outbox rows after 30 days, moved inbox rows after 7; nothing younger, nothing undone.
update public.outbox set created_at = now() - interval '31 days' where provider_message_id = 'wamid.OUT1';
insert into public.outbox (org_id, channel, recipient, idempotency_key, created_at)
  values ('a0000000-0000-4000-8000-000000000001', 'whatsapp', '1', 'retention-pending', now() - interval '40 days');
select is(public.cleanup_old_outbox(now()), 1::bigint, 'a sent outbox row 31 days old is deleted');
select is((select count(*)::int from public.outbox where idempotency_key = 'retention-pending'), 1,
  'an undelivered row stays, however old');
select is(public.cleanup_whatsapp_inbox(now() + interval '8 days'), 1::bigint, 'a moved inbox row is deleted after 7 days');

-- ---------------------------------------------------------------------------------------------
-- Idle bot memory, and organisation isolation
-- ---------------------------------------------------------------------------------------------
update public.bot_memory set updated_at = now() - interval '31 minutes';
select is(public.expire_bot_memory(now()), 1::bigint, 'memory idle for 30 minutes is dropped');

set local role authenticated;
set local request.jwt.claims = '{"sub": "a0000000-0000-4000-8000-0000000000a1", "role": "authenticated"}';
select is(array(select site_key from public.chat_sites order by 1), array['site-a'], 'members see only their sites');
select throws_ok($$select access_token from public.whatsapp_numbers$$, '42501', null, 'members cannot read WhatsApp tokens');

select * from finish();
rollback;
