-- Audit trail (migration 20261123000310): what log_audit_event() records for each operation, who it
-- names as the actor, enable_audit()/disable_audit() called twice, and the append-only rule.
begin;
set local search_path = public, extensions;
select plan(38);
select session_user as me \gset

insert into auth.users (id, email) values ('a0000000-0000-4000-8000-0000000000a1', 'ana@example.com');
insert into public.orgs (id, name) values ('a0000000-0000-4000-8000-000000000001', 'Org A');
insert into public.org_members (org_id, user_id, role) values
  ('a0000000-0000-4000-8000-000000000001', 'a0000000-0000-4000-8000-0000000000a1', 'admin');

-- ---------------------------------------------------------------------------------------------
-- Which tables are audited
-- ---------------------------------------------------------------------------------------------
-- Feature migrations audit their own tables too (alert rules, ...); their tests check those.
select ok(
  array['ai_dispatcher_configs', 'clients', 'conversations', 'jobs', 'phone_numbers']
    <@ array(select c.relname::text from pg_trigger t join pg_class c on c.oid = t.tgrelid
             where t.tgname = 'audit_log_update' and t.tgenabled <> 'D' and c.relnamespace = 'public'::regnamespace),
  'the critical tables are audited');

-- ---------------------------------------------------------------------------------------------
-- What is recorded (as the owner, no JWT, no app.actor)
-- ---------------------------------------------------------------------------------------------
insert into public.clients (id, org_id, name, phone) values
  ('a0000000-0000-4000-8000-0000000000c1', 'a0000000-0000-4000-8000-000000000001', 'Jane', '416 555 0199');
select row_eq($$select table_schema, table_name, operation, old_values, new_values ->> 'name', changed_columns, org_id
                from public.audit_logs where record_id = 'a0000000-0000-4000-8000-0000000000c1'$$,
  row('public'::text, 'clients'::text, 'INSERT'::text, null::jsonb, 'Jane'::text, null::text[], 'a0000000-0000-4000-8000-000000000001'::uuid),
  'an insert records the new row, its key and its organisation');
select row_eq($$select user_id, actor, db_role from public.audit_logs where record_id = 'a0000000-0000-4000-8000-0000000000c1'$$,
  row(null::uuid, (:'me')::text, (:'me')::text),
  'without a JWT or app.actor the actor is the database role');

update public.clients set name = 'Jane Cooper', email = 'jane@example.com' where id = 'a0000000-0000-4000-8000-0000000000c1';
select row_eq($$select old_values ->> 'name', new_values ->> 'name', changed_columns from public.audit_logs
                where record_id = 'a0000000-0000-4000-8000-0000000000c1' and operation = 'UPDATE'$$,
  row('Jane'::text, 'Jane Cooper'::text, array['email', 'name']),
  'an update records both images and the columns that changed');

update public.clients set name = 'Jane Cooper' where id = 'a0000000-0000-4000-8000-0000000000c1';
select is((select count(*) from public.audit_logs where record_id = 'a0000000-0000-4000-8000-0000000000c1' and operation = 'UPDATE'),
  1::bigint, 'an update that changes nothing but updated_at writes no row');

insert into public.conversations (id, org_id, channel) values
  ('a0000000-0000-4000-8000-0000000000d1', 'a0000000-0000-4000-8000-000000000001', 'web');
insert into public.messages (conversation_id, org_id, sender_type, body) values
  ('a0000000-0000-4000-8000-0000000000d1', 'a0000000-0000-4000-8000-000000000001', 'customer', 'hi'),
  ('a0000000-0000-4000-8000-0000000000d1', 'a0000000-0000-4000-8000-000000000001', 'bot', 'hello');
select is((select count(*) from public.audit_logs where record_id = 'a0000000-0000-4000-8000-0000000000d1'),
  1::bigint, 'messages update only bookkeeping columns of their conversation: no audit row per message');
update public.conversations set status = 'queued' where id = 'a0000000-0000-4000-8000-0000000000d1';
select is((select changed_columns from public.audit_logs where record_id = 'a0000000-0000-4000-8000-0000000000d1' and operation = 'UPDATE'),
  array['status'], 'a status change is recorded (updated_at did not move: same transaction)');

delete from public.clients where id = 'a0000000-0000-4000-8000-0000000000c1';
select row_eq($$select old_values ->> 'name', new_values from public.audit_logs
                where record_id = 'a0000000-0000-4000-8000-0000000000c1' and operation = 'DELETE'$$,
  row('Jane Cooper'::text, null::jsonb), 'a delete records the old row');

-- ---------------------------------------------------------------------------------------------
-- Who: JWT user, app.actor, database role
-- ---------------------------------------------------------------------------------------------
select set_config('app.actor', 'telnyx-webhook', true);
insert into public.clients (id, org_id, name) values
  ('a0000000-0000-4000-8000-0000000000c2', 'a0000000-0000-4000-8000-000000000001', 'Sam');
select row_eq($$select user_id, actor, db_role from public.audit_logs where record_id = 'a0000000-0000-4000-8000-0000000000c2'$$,
  row(null::uuid, 'telnyx-webhook'::text, (:'me')::text), 'app.actor names the function that wrote');

select set_config('app.actor', 'a0000000-0000-4000-8000-0000000000a1', true);
update public.clients set name = 'Sam Patel' where id = 'a0000000-0000-4000-8000-0000000000c2';
select row_eq($$select user_id, actor from public.audit_logs where record_id = 'a0000000-0000-4000-8000-0000000000c2' and operation = 'UPDATE'$$,
  row('a0000000-0000-4000-8000-0000000000a1'::uuid, 'a0000000-0000-4000-8000-0000000000a1'::text),
  'an app.actor that is a uuid also fills user_id');
select set_config('app.actor', '', true);

set local role service_role;
update public.clients set email = 'sam@example.com' where id = 'a0000000-0000-4000-8000-0000000000c2';
reset role;
select row_eq($$select user_id, actor, db_role from public.audit_logs
                where record_id = 'a0000000-0000-4000-8000-0000000000c2' and 'email' = any (changed_columns)$$,
  row(null::uuid, 'service_role'::text, 'service_role'::text), 'a role set with SET ROLE is the actor when nothing else is known');

select set_config('request.jwt.claims', '{"sub": "a0000000-0000-4000-8000-0000000000a1", "role": "authenticated"}', true);
set local role authenticated;
update public.clients set name = 'Samuel Patel' where id = 'a0000000-0000-4000-8000-0000000000c2';
reset role;
select set_config('request.jwt.claims', '', true);
select row_eq($$select user_id, actor, db_role from public.audit_logs
                where record_id = 'a0000000-0000-4000-8000-0000000000c2' and new_values ->> 'name' = 'Samuel Patel'$$,
  row('a0000000-0000-4000-8000-0000000000a1'::uuid, 'a0000000-0000-4000-8000-0000000000a1'::text, 'authenticated'::text),
  'a dashboard user is recorded by auth.uid()');

-- ---------------------------------------------------------------------------------------------
-- enable_audit / disable_audit
-- ---------------------------------------------------------------------------------------------
create table public.audit_probe (id int primary key, note text, touched_at timestamptz);
select public.enable_audit('public.audit_probe', array['touched_at']);
select lives_ok($$select public.enable_audit('public.audit_probe', array['touched_at'])$$, 'enable_audit can be called twice');
select is((select count(*) from pg_trigger where tgrelid = 'public.audit_probe'::regclass and not tgisinternal),
  4::bigint, 'and leaves one trigger per insert, update, delete and truncate');
select public.enable_audit('public.audit_probe');
select is((select encode(tgargs, 'escape') from pg_trigger where tgrelid = 'public.audit_probe'::regclass and tgname = 'audit_log_update'),
  'id\000touched_at\000', 'enable_audit without a list keeps the bookkeeping columns already set');

insert into public.audit_probe values (1, 'a', now());
update public.audit_probe set touched_at = now() + interval '1 minute' where id = 1;
select is((select count(*) from public.audit_logs where table_name = 'audit_probe'), 1::bigint,
  'a change to bookkeeping columns only writes no row');
update public.audit_probe set note = 'b', touched_at = now() + interval '2 minutes' where id = 1;
select is((select changed_columns from public.audit_logs where table_name = 'audit_probe' and operation = 'UPDATE'),
  array['note', 'touched_at'], 'a real change lists the bookkeeping columns that changed with it');
truncate public.audit_probe;
select row_eq($$select operation, record_id, user_id, actor from public.audit_logs where table_name = 'audit_probe' and operation = 'TRUNCATE'$$,
  row('TRUNCATE'::text, null::text, null::uuid, (:'me')::text), 'truncate is recorded once, without rows');

select public.disable_audit('public.audit_probe');
select lives_ok($$select public.disable_audit('public.audit_probe')$$, 'disable_audit can be called twice');
select is((select count(*) from pg_trigger where tgrelid = 'public.audit_probe'::regclass and not tgisinternal and tgenabled <> 'D'),
  0::bigint, 'and switches all four off');
insert into public.audit_probe values (2, 'c', now());
select is((select count(*) from public.audit_logs where table_name = 'audit_probe' and operation = 'INSERT'), 1::bigint,
  'a table no longer audited writes nothing');
select public.enable_audit('public.audit_probe');
select row_eq($$select encode(tgargs, 'escape'), tgenabled from pg_trigger
                where tgrelid = 'public.audit_probe'::regclass and tgname = 'audit_log_update'$$,
  row('id\000touched_at\000'::text, 'O'::"char"), 'enable_audit after disable_audit resumes with the same bookkeeping list');
insert into public.audit_probe select i, 'bulk', now() from generate_series(10, 14) i;
select is((select count(*) from public.audit_logs where table_name = 'audit_probe' and new_values ->> 'note' = 'bulk'),
  5::bigint, 'a multi-row statement writes one audit row per row');
update public.audit_probe set id = 100 where id = 10;
select row_eq($$select record_id, old_values ->> 'id', changed_columns from public.audit_logs
                where table_name = 'audit_probe' and operation = 'UPDATE' and 'id' = any (changed_columns)$$,
  row('100'::text, '10'::text, array['id']), 'a changed primary key is recorded under the new key, with the old one in old_values');

alter table public.audit_probe add column extra text;
select lives_ok($$select public.enable_audit('public.audit_probe')$$, 'enable_audit runs again after a column is added');
update public.audit_probe set extra = 'new column' where id = 11;
select is((select changed_columns from public.audit_logs where table_name = 'audit_probe' and record_id = '11' and operation = 'UPDATE'),
  array['extra'], 'and a change of the new column alone is recorded');

create table public.audit_probe_composite (a int, b text, primary key (a, b));
select public.enable_audit('public.audit_probe_composite');
insert into public.audit_probe_composite values (7, 'x');
select is((select record_id from public.audit_logs where table_name = 'audit_probe_composite'), '7,x',
  'a composite key is recorded as its values joined with commas');

create table public.audit_probe_nokey (a int);
select throws_ok($$select public.enable_audit('public.audit_probe_nokey')$$, '22023', null,
  'a table without a primary key cannot be audited');

select is_empty($$
  select t.tgrelid::regclass::text || '.' || a.attname
  from pg_trigger t
  join pg_attribute a on a.attrelid = t.tgrelid and a.attnum > 0 and not a.attisdropped
  where t.tgname = 'audit_log_update'
    and a.attname <> all (string_to_array(regexp_replace(encode(t.tgargs, 'escape'), '\\000$', ''), '\000')
                          || array['updated_at'])
    and pg_get_triggerdef(t.oid) !~ ('old\.' || quote_ident(a.attname) || '[ ,)]')
    and pg_get_triggerdef(t.oid) !~ 'to_jsonb\(old\.\*\)'$$,
  'every audited table''s update trigger compares all its columns (after adding one, call enable_audit again)');

-- ---------------------------------------------------------------------------------------------
-- Append-only
-- ---------------------------------------------------------------------------------------------
select throws_ok($$update public.audit_logs set actor = 'someone else'$$, 'SB002', 'AUDIT_LOG_APPEND_ONLY',
  'not even the owner can update the trail');
select throws_ok($$delete from public.audit_logs$$, 'SB002', 'AUDIT_LOG_APPEND_ONLY',
  'not even the owner can delete from the trail');
select throws_ok($$truncate public.audit_logs$$, 'SB002', 'AUDIT_LOG_APPEND_ONLY',
  'not even the owner can truncate the trail');

set local role service_role;
select throws_ok($$delete from public.audit_logs$$, '42501', null, 'the service role has no delete privilege');
select throws_ok($$insert into public.audit_logs (table_name, record_id, operation, new_values, actor, db_role) values ('clients', 'x', 'INSERT', '{}', 'me', 'me')$$,
  '42501', null, 'the service role cannot forge rows');
reset role;
select set_config('request.jwt.claims', '{"sub": "a0000000-0000-4000-8000-0000000000a1", "role": "authenticated"}', true);
set local role authenticated;
select throws_ok($$update public.audit_logs set actor = 'x'$$, '42501', null, 'a member has no update privilege');
select throws_ok($$select public.enable_audit('public.clients', '{}')$$, '42501', null, 'a member cannot change what is audited');
select throws_ok($$select public.disable_audit('public.clients')$$, '42501', null, 'a member cannot switch auditing off');
reset role;
select set_config('request.jwt.claims', '', true);

-- ---------------------------------------------------------------------------------------------
-- Security definer hygiene, for every function of these migrations
-- ---------------------------------------------------------------------------------------------
select is_empty($$select p.oid::regprocedure::text from pg_proc p
                  where p.pronamespace = 'public'::regnamespace and p.prosecdef
                    and not coalesce('search_path=""' = any (p.proconfig), false)$$,
  'every security definer function in public sets search_path to empty');

select * from finish();
rollback;
