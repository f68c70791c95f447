-- Maintenance (migration 20261123000320): each cleanup function with time shifted through p_now,
-- per-organisation periods, batch bounds, retention of audit and webhook logs, and
-- run_maintenance_tasks()'s summary and its ANALYZE rule. Acts as the database owner (pg_cron's role).
begin;
set local search_path = public, extensions;
select plan(48);

-- Org A keeps the defaults; org B overrides every period; orgs C, D and E isolate later sections.
insert into public.orgs (id, name) values
  ('a0000000-0000-4000-8000-000000000001', 'Org A'),
  ('b0000000-0000-4000-8000-000000000001', 'Org B'),
  ('c0000000-0000-4000-8000-000000000001', 'Org C'),
  ('d0000000-0000-4000-8000-000000000001', 'Org D'),
  ('e0000000-0000-4000-8000-000000000001', 'Org E');
insert into public.maintenance_settings (org_id, abandon_after, message_retention, audit_retention, webhook_log_retention)
values ('b0000000-0000-4000-8000-000000000001', interval '1 hour', interval '1 day', interval '10 days', interval '2 days');

select row_eq($$select abandon_after, message_retention, audit_retention, webhook_log_retention
                from public.effective_maintenance_settings where org_id = 'a0000000-0000-4000-8000-000000000001'$$,
  row(interval '24 hours', interval '7 days', interval '90 days', interval '30 days'),
  'an organisation without settings gets the defaults');
select throws_ok($$insert into public.maintenance_settings (org_id, audit_retention) values ('c0000000-0000-4000-8000-000000000001', interval '1 hour')$$,
  '23514', null, 'audit logs are kept at least a day');

-- ---------------------------------------------------------------------------------------------
-- cleanup_abandoned_conversations
-- ---------------------------------------------------------------------------------------------
insert into public.conversations (id, org_id, channel, external_id, status, last_activity_at) values
  ('a0000000-0000-4000-8000-0000000000a1', 'a0000000-0000-4000-8000-000000000001', 'web', 'idle-25h', 'bot', now() - interval '25 hours'),
  ('a0000000-0000-4000-8000-0000000000a2', 'a0000000-0000-4000-8000-000000000001', 'web', 'idle-23h', 'bot', now() - interval '23 hours'),
  ('a0000000-0000-4000-8000-0000000000a3', 'a0000000-0000-4000-8000-000000000001', 'web', 'queued-30h', 'queued', now() - interval '30 hours'),
  ('a0000000-0000-4000-8000-0000000000a4', 'a0000000-0000-4000-8000-000000000001', 'web', 'agent-48h', 'agent', now() - interval '48 hours'),
  ('a0000000-0000-4000-8000-0000000000a6', 'a0000000-0000-4000-8000-000000000001', 'web', 'idle-2h', 'bot', now() - interval '2 hours'),
  ('b0000000-0000-4000-8000-0000000000a1', 'b0000000-0000-4000-8000-000000000001', 'web', 'idle-2h', 'bot', now() - interval '2 hours');

select is(public.cleanup_abandoned_conversations(now()), 3::bigint,
  'open conversations idle past their organisation''s period are resolved');
select results_eq($$select external_id, org_id, status, resolution_reason, resolved_at from public.conversations
                    where resolution_reason = 'abandoned' order by org_id, external_id$$,
  $$values ('idle-25h'::text, 'a0000000-0000-4000-8000-000000000001'::uuid, 'resolved'::text, 'abandoned'::text, now()),
           ('queued-30h', 'a0000000-0000-4000-8000-000000000001', 'resolved', 'abandoned', now()),
           ('idle-2h', 'b0000000-0000-4000-8000-000000000001', 'resolved', 'abandoned', now())$$,
  'bot and queued conversations idle 24 h (1 h in org B) become resolved/abandoned at p_now');
select results_eq($$select external_id, status from public.conversations
                    where org_id = 'a0000000-0000-4000-8000-000000000001' and resolution_reason is null order by external_id$$,
  $$values ('agent-48h'::text, 'agent'::text), ('idle-23h', 'bot'), ('idle-2h', 'bot')$$,
  'conversations with an agent, or idle less than the period, stay open');
select row_eq($$select actor, changed_columns @> array['resolution_reason', 'resolved_at', 'status'] from public.audit_logs
                where record_id = 'a0000000-0000-4000-8000-0000000000a1' and operation = 'UPDATE'$$,
  row('maintenance'::text, true), 'the audit trail names maintenance as the actor');
select is(coalesce(current_setting('app.actor', true), ''), '', 'and app.actor is restored afterwards');
select is(public.cleanup_abandoned_conversations(now()), 0::bigint, 'a second run finds nothing');
select is(public.cleanup_abandoned_conversations(now() + interval '2 hours'), 1::bigint,
  'two hours later the conversation idle 23 h is abandoned too');
select is((select sum(conversations_abandoned)::int from public.conversation_daily_metrics
           where org_id in ('a0000000-0000-4000-8000-000000000001', 'b0000000-0000-4000-8000-000000000001')),
  4, 'the daily rollup counts the four abandoned conversations');

insert into public.conversations (org_id, channel, external_id, last_activity_at)
  select 'c0000000-0000-4000-8000-000000000001', 'web', 'batch-' || i, now() - interval '3 days' - i * interval '1 minute'
  from generate_series(1, 5) i;
select is(public.cleanup_abandoned_conversations(now(), 2, 1), 2::bigint, 'one batch of two resolves exactly two');
select is((select count(*) from public.conversations where org_id = 'c0000000-0000-4000-8000-000000000001' and status = 'resolved'),
  2::bigint, 'and leaves the other three open');
select is(public.cleanup_abandoned_conversations(now(), 2, 1), 2::bigint, 'the next call takes the next two');
select is(public.cleanup_abandoned_conversations(now(), 2, 1), 1::bigint, 'then the last one');
select is(public.cleanup_abandoned_conversations(now(), 2, 3), 0::bigint, 'then nothing');
select throws_ok($$select public.cleanup_abandoned_conversations(null)$$, '22023', null, 'a null p_now is refused');

-- ---------------------------------------------------------------------------------------------
-- cleanup_old_messages
-- ---------------------------------------------------------------------------------------------
insert into public.conversations (id, org_id, channel, external_id, status, resolved_at, created_at) values
  ('a0000000-0000-4000-8000-0000000000b1', 'a0000000-0000-4000-8000-000000000001', 'web', 'resolved-8d', 'resolved', now() - interval '8 days', now() - interval '9 days'),
  ('a0000000-0000-4000-8000-0000000000b2', 'a0000000-0000-4000-8000-000000000001', 'web', 'resolved-6d', 'resolved', now() - interval '6 days', now() - interval '9 days'),
  ('b0000000-0000-4000-8000-0000000000b4', 'b0000000-0000-4000-8000-000000000001', 'web', 'resolved-2d', 'resolved', now() - interval '2 days', now() - interval '9 days');
insert into public.conversations (id, org_id, channel, external_id, created_at) values
  ('a0000000-0000-4000-8000-0000000000b3', 'a0000000-0000-4000-8000-000000000001', 'web', 'open-old', now() - interval '30 days');
insert into public.messages (conversation_id, org_id, sender_type, body, created_at)
  select c.id, c.org_id, 'bot', 'line ' || i, now() - interval '9 days' + i * interval '1 minute'
  from public.conversations c
  cross join lateral generate_series(1, case c.external_id when 'resolved-8d' then 3 when 'open-old' then 4 else 2 end) i
  where c.external_id in ('resolved-8d', 'resolved-6d', 'resolved-2d', 'open-old');
update public.conversations set last_activity_at = now() where external_id = 'open-old';

select is(public.cleanup_old_messages(now()), 5::bigint,
  'messages of conversations resolved more than 7 days ago (1 day in org B) are deleted');
select results_eq($$select c.external_id, count(m.id), c.messages_purged_at from public.conversations c
                    left join public.messages m on m.conversation_id = c.id
                    where c.external_id in ('resolved-8d', 'resolved-6d', 'resolved-2d', 'open-old')
                    group by c.external_id, c.messages_purged_at order by 1$$,
  $$values ('open-old'::text, 4::bigint, null::timestamptz), ('resolved-2d', 0, now()), ('resolved-6d', 2, null), ('resolved-8d', 0, now())$$,
  'only those conversations lose their messages, and are marked purged');
select row_eq($$select status, bot_message_count from public.conversations where external_id = 'resolved-8d'$$,
  row('resolved'::text, 3), 'the conversation row and its counters stay');
select is(public.cleanup_old_messages(now()), 0::bigint, 'a second run finds nothing');

insert into public.messages (conversation_id, org_id, sender_type, body, created_at) values
  ('a0000000-0000-4000-8000-0000000000b1', 'a0000000-0000-4000-8000-000000000001', 'bot', 'late transcript', now() - interval '8 days 1 hour');
select row_eq($$select status, messages_purged_at from public.conversations where external_id = 'resolved-8d'$$,
  row('resolved'::text, null::timestamptz), 'a late message into a purged conversation clears the mark');
select is(public.cleanup_old_messages(now()), 1::bigint, 'and is pruned by the next run');
select is(public.cleanup_old_messages(now() + interval '2 days'), 2::bigint,
  'two days later the conversation resolved 6 days ago is due too');

insert into public.conversations (id, org_id, channel, external_id, status, resolved_at) values
  ('c0000000-0000-4000-8000-0000000000b5', 'c0000000-0000-4000-8000-000000000001', 'web', 'resolved-10d', 'resolved', now() - interval '10 days');
insert into public.messages (conversation_id, org_id, sender_type, body, created_at)
  select 'c0000000-0000-4000-8000-0000000000b5', 'c0000000-0000-4000-8000-000000000001', 'system', 'm' || i, now() - interval '11 days'
  from generate_series(1, 5) i;
select is(public.cleanup_old_messages(now(), 2, 1), 2::bigint, 'one batch of two deletes exactly two messages');
select is((select messages_purged_at from public.conversations where external_id = 'resolved-10d'), null,
  'a conversation cut off by the bound is not marked purged yet');
select is(public.cleanup_old_messages(now(), 2, 1), 2::bigint, 'the next call deletes the next two');
select is(public.cleanup_old_messages(now(), 2, 1), 1::bigint, 'then the last one');
select is((select messages_purged_at from public.conversations where external_id = 'resolved-10d'), now(),
  'and the conversation is marked purged');
insert into public.conversations (id, org_id, channel, external_id, status, resolved_at) values
  ('c0000000-0000-4000-8000-0000000000b6', 'c0000000-0000-4000-8000-000000000001', 'web', 'resolved-12d', 'resolved', now() - interval '12 days');
insert into public.messages (conversation_id, org_id, sender_type, body, created_at)
  select 'c0000000-0000-4000-8000-0000000000b6', 'c0000000-0000-4000-8000-000000000001', 'system', 'm' || i, now() - interval '13 days'
  from generate_series(1, 4) i;
select is(public.cleanup_old_messages(now(), 2, 1) + public.cleanup_old_messages(now(), 2, 1), 4::bigint,
  'two full batches delete all four messages of a conversation');
select is((select messages_purged_at from public.conversations where external_id = 'resolved-12d'), now(),
  'and the call that deleted the last full batch marks it purged, so a call returning 0 means nothing is left');

-- ---------------------------------------------------------------------------------------------
-- cleanup_old_audit_logs
-- ---------------------------------------------------------------------------------------------
insert into public.audit_logs (table_name, record_id, operation, new_values, actor, db_role, org_id, created_at) values
  ('clients', 'a-91-1', 'INSERT', '{}', 'test', 'test', 'a0000000-0000-4000-8000-000000000001', now() - interval '91 days'),
  ('clients', 'a-91-2', 'INSERT', '{}', 'test', 'test', 'a0000000-0000-4000-8000-000000000001', now() - interval '91 days'),
  ('clients', 'a-89', 'INSERT', '{}', 'test', 'test', 'a0000000-0000-4000-8000-000000000001', now() - interval '89 days'),
  ('clients', 'b-11', 'INSERT', '{}', 'test', 'test', 'b0000000-0000-4000-8000-000000000001', now() - interval '11 days'),
  ('clients', 'b-9', 'INSERT', '{}', 'test', 'test', 'b0000000-0000-4000-8000-000000000001', now() - interval '9 days'),
  ('clients', 'none-91', 'INSERT', '{}', 'test', 'test', null, now() - interval '91 days'),
  ('clients', 'none-89', 'INSERT', '{}', 'test', 'test', null, now() - interval '89 days'),
  ('clients', 'gone-91', 'INSERT', '{}', 'test', 'test', 'f0000000-0000-4000-8000-00000000dead', now() - interval '91 days');

select is(public.cleanup_old_audit_logs(now()), 5::bigint,
  'audit rows past retention are deleted: 90 days, 10 in org B, the default without or after an organisation');
select is(array(select record_id from public.audit_logs where actor = 'test' order by record_id),
  array['a-89', 'b-9', 'none-89'], 'younger rows stay');
select throws_ok($$delete from public.audit_logs where record_id = 'a-89'$$, 'SB002', 'AUDIT_LOG_APPEND_ONLY',
  'after the retention run the trail is append-only again');
insert into public.audit_logs (table_name, record_id, operation, new_values, actor, db_role, org_id, created_at)
  select 'clients', 'old-' || i, 'INSERT', '{}', 'test', 'test', 'c0000000-0000-4000-8000-000000000001', now() - interval '100 days'
  from generate_series(1, 3) i;
select is(public.cleanup_old_audit_logs(now(), 2, 1), 2::bigint, 'one batch of two deletes exactly two audit rows');
select is(public.cleanup_old_audit_logs(now(), 2, 1), 1::bigint, 'the next call deletes the last one');

-- ---------------------------------------------------------------------------------------------
-- cleanup_old_webhook_logs and cleanup_cron_history
-- ---------------------------------------------------------------------------------------------
insert into public.webhook_logs (org_id, source, event_id, status_code, created_at) values
  ('a0000000-0000-4000-8000-000000000001', 'telnyx', 'a-31', 200, now() - interval '31 days'),
  ('a0000000-0000-4000-8000-000000000001', 'telnyx', 'a-29', 200, now() - interval '29 days'),
  ('b0000000-0000-4000-8000-000000000001', 'telnyx', 'b-3', 200, now() - interval '3 days'),
  ('b0000000-0000-4000-8000-000000000001', 'telnyx', 'b-1', 200, now() - interval '1 day'),
  (null, 'telnyx', 'none-31', 401, now() - interval '31 days'),
  (null, 'telnyx', 'none-29', 401, now() - interval '29 days');
select is(public.cleanup_old_webhook_logs(now()), 3::bigint,
  'webhook logs past retention are deleted: 30 days, 2 in org B, the default without an organisation');
select is(array(select event_id from public.webhook_logs order by event_id), array['a-29', 'b-1', 'none-29'],
  'younger webhook logs stay');
select is(public.cleanup_old_webhook_logs(now() + interval '2 days'), 3::bigint, 'two days later the rest is due');
select ok(case when to_regclass('cron.job_run_details') is null then public.cleanup_cron_history(now()) is null
               else public.cleanup_cron_history(now()) >= 0 end,
  'cleanup_cron_history returns null where pg_cron is absent, a count where it is present');

-- ---------------------------------------------------------------------------------------------
-- run_maintenance_tasks
-- ---------------------------------------------------------------------------------------------
insert into public.conversations (id, org_id, channel, external_id, last_activity_at) values
  ('d0000000-0000-4000-8000-0000000000a1', 'd0000000-0000-4000-8000-000000000001', 'web', 'run-idle', now() - interval '2 days');
insert into public.conversations (id, org_id, channel, external_id, status, resolved_at) values
  ('d0000000-0000-4000-8000-0000000000b1', 'd0000000-0000-4000-8000-000000000001', 'web', 'run-resolved', 'resolved', now() - interval '20 days');
insert into public.messages (conversation_id, org_id, sender_type, body, created_at) values
  ('d0000000-0000-4000-8000-0000000000b1', 'd0000000-0000-4000-8000-000000000001', 'agent', 'bye', now() - interval '21 days');
insert into public.audit_logs (table_name, record_id, operation, new_values, actor, db_role, org_id, created_at) values
  ('clients', 'run-old', 'INSERT', '{}', 'test', 'test', 'd0000000-0000-4000-8000-000000000001', now() - interval '200 days');
insert into public.webhook_logs (org_id, source, event_id, status_code, created_at) values
  ('d0000000-0000-4000-8000-000000000001', 'telnyx', 'run-old', 200, now() - interval '40 days');

create temporary table run_1 as select public.run_maintenance_tasks(now()) as r;
select is((select jsonb_build_object(
             'abandoned', r #> '{abandoned_conversations,rows}', 'messages', r #> '{old_messages,rows}',
             'audit', r #> '{audit_logs,rows}', 'webhook', r #> '{webhook_logs,rows}') from run_1),
  '{"abandoned": 1, "messages": 1, "audit": 1, "webhook": 1}'::jsonb,
  'run_maintenance_tasks runs every task and reports the rows each touched');
select ok((select (r ? 'cron_job_run_details') and jsonb_typeof(r -> 'total_ms') = 'number'
                  and jsonb_typeof(r #> '{old_messages,ms}') = 'number' from run_1),
  'with the time each took, the cron history task and the total');
select is((select r -> 'analyzed' from run_1), '[]'::jsonb, 'a small run analyzes nothing');
select is((select r #>> '{abandoned_conversations,rows}' from (select public.run_maintenance_tasks(now()) as r) x)::int, 0,
  'a run with nothing to do reports zero');

-- Above the threshold (10 000 rows) the touched table is analyzed, and only that one.
insert into public.conversations (org_id, channel, external_id, status, resolved_at)
  select 'e0000000-0000-4000-8000-000000000001', 'web', 'big-' || i, 'resolved', now() - interval '30 days'
  from generate_series(0, 99) i;
insert into public.messages (conversation_id, org_id, sender_type, body, created_at)
  select c.id, c.org_id, 'bot', 'm', now() - interval '31 days'
  from generate_series(1, 10001) i
  join public.conversations c on c.external_id = 'big-' || (i % 100);
create temporary table run_2 as select public.run_maintenance_tasks(now()) as r;
select is((select r #>> '{old_messages,rows}' from run_2)::int, 10001, 'the big conversations'' messages are pruned');
select is((select r -> 'analyzed' from run_2), '["public.messages"]'::jsonb, 'and messages, and only messages, is analyzed');
select is((select reltuples::bigint from pg_class where oid = 'public.messages'::regclass),
  (select count(*) from public.messages), 'the planner''s row count for messages is now exact');
select throws_ok($$select public.run_maintenance_tasks(null)$$, '22023', null, 'a null p_now is refused');
select is((select count(*) from pg_proc p where p.oid in (
    'public.run_maintenance_tasks(timestamptz)'::regprocedure,
    'public.cleanup_abandoned_conversations(timestamptz, int, int)'::regprocedure,
    'public.cleanup_old_messages(timestamptz, int, int)'::regprocedure,
    'public.cleanup_old_audit_logs(timestamptz, int, int)'::regprocedure,
    'public.cleanup_old_webhook_logs(timestamptz, int, int)'::regprocedure,
    'public.cleanup_cron_history(timestamptz, interval, int, int)'::regprocedure)
  and has_function_privilege('service_role', p.oid, 'execute')
  and not has_function_privilege('authenticated', p.oid, 'execute')
  and not has_function_privilege('anon', p.oid, 'execute')), 6::bigint,
  'the service role may run maintenance; dashboard users and anon may not');

select * from finish();
rollback;
