-- Audit trail: who changed what in the tables that matter (conversations, clients, jobs, phone
-- numbers, dispatcher configurations; agents when they arrive), written by one generic trigger so
-- that every writer is recorded, whether an edge function, the dashboard or the SQL console.
--
-- Design, after supabase/supa_audit: one table of jsonb images for every audited table; one
-- security definer trigger function attached by enable_audit(regclass) and switched off by
-- disable_audit(regclass), both safe to call twice. Differences: the actor is recorded (JWT user,
-- else the app.actor setting, else the database role); updates list their changed columns; updates
-- that touch only bookkeeping columns (updated_at, counters and activity timestamps that triggers
-- keep) write nothing, and are filtered by the trigger's WHEN clause so that the function is not
-- even called: a busy conversation costs no audit work per message (bench/sql-audit.mjs measures
-- what auditing costs); the table is append-only and its rows leave only through
-- cleanup_old_audit_logs().
--
-- Setting the actor: an edge function that acts for someone runs
--   select set_config('app.actor', 'telnyx-webhook', true);   -- or a user's uuid, or 'user:<email>'
-- in the same transaction as its writes. A uuid there also fills user_id.

create table public.audit_logs (
  id bigint generated always as identity primary key,
  table_schema text not null default 'public',
  table_name text not null,
  -- The primary key as text (several key columns are joined with ','); null for TRUNCATE.
  record_id text,
  operation text not null,
  old_values jsonb,
  new_values jsonb,
  -- For UPDATE: every column whose value changed, sorted.
  changed_columns text[],
  -- The signed-in user (auth.uid()), else app.actor when it is a uuid; null for system writes.
  user_id uuid,
  -- Who, as text, never null: auth.uid(), else app.actor, else the database role.
  actor text not null,
  -- The database role that ran the statement (authenticated, service_role, postgres, ...).
  db_role text not null,
  -- The row's organisation, when the table has org_id. No foreign key: the trail outlives the org.
  org_id uuid,
  created_at timestamptz not null default now(),

  constraint audit_logs_operation_valid check (operation in ('INSERT', 'UPDATE', 'DELETE', 'TRUNCATE')),
  constraint audit_logs_images_match_operation check (
    case operation
      when 'INSERT' then old_values is null and new_values is not null
      when 'UPDATE' then old_values is not null and new_values is not null and changed_columns is not null
      when 'DELETE' then old_values is not null and new_values is null
      else old_values is null and new_values is null
    end),
  constraint audit_logs_record_id_present check ((operation = 'TRUNCATE') = (record_id is null))
);
comment on table public.audit_logs is
  'Append-only trail of changes to audited tables (see enable_audit). Rows leave only through cleanup_old_audit_logs().';
comment on constraint audit_logs_images_match_operation on public.audit_logs is
  'INSERT has only new_values, DELETE only old_values, UPDATE both and its changed columns, TRUNCATE neither.';

-- Serves an organisation's trail, newest first, and retention by organisation (cleanup_old_audit_logs).
create index audit_logs_org_created_idx on public.audit_logs (org_id, created_at);
-- Serves the history of one record.
create index audit_logs_record_idx on public.audit_logs (table_name, record_id);

-- Trigger on audit_logs, before UPDATE, DELETE or TRUNCATE (once per statement): refuses them with
-- SQLSTATE SB002 (AUDIT_LOG_APPEND_ONLY) unless app.maintenance is 'on', which only the retention
-- function sets, for its own statements. Privileges are revoked too; this also stops the owner.
-- Who may call: the trigger only. Changes nothing.
create or replace function public.audit_logs_append_only() returns trigger
language plpgsql
set search_path = ''
as $$
begin
  if coalesce(current_setting('app.maintenance', true), '') = 'on' then
    return null;
  end if;
  raise exception using
    errcode = 'SB002',
    message = 'AUDIT_LOG_APPEND_ONLY',
    detail = format('%s on public.audit_logs is refused', tg_op),
    hint = 'rows leave audit_logs only through public.cleanup_old_audit_logs()';
end
$$;
revoke execute on function public.audit_logs_append_only() from public, anon, authenticated, service_role;
create trigger audit_logs_append_only before update or delete or truncate on public.audit_logs
  for each statement execute function public.audit_logs_append_only();

-- The generic audit trigger. Attached by enable_audit() as four triggers, each executing
-- log_audit_event(<primary key columns, comma separated>, <bookkeeping column>...):
--   audit_log_insert    after insert, for each row
--   audit_log_update    after update, for each row, when a column other than the bookkeeping ones
--                       and updated_at changed (the WHEN clause compares those columns, in C,
--                       before any function call: a message's bookkeeping update costs ~1 us)
--   audit_log_delete    after delete, for each row
--   audit_log_truncate  after truncate, for each statement
-- Row-level, because the writes that matter come one row per statement (a webhook, a dashboard
-- click), where a row trigger costs less than a statement trigger with transition tables.
-- security definer: nobody but this function may insert into audit_logs.
-- Who may call: the triggers only. Changes audit_logs.
create or replace function public.log_audit_event() returns trigger
language plpgsql security definer
set search_path = ''
as $$
declare
  v_old jsonb;
  v_new jsonb;
  v_row jsonb;
  v_changed text[];
  v_pk text[] := string_to_array(tg_argv[0], ',');
  v_app_actor text := nullif(current_setting('app.actor', true), '');
  v_role text := coalesce(nullif(current_setting('role', true), 'none'), session_user);
  v_uid uuid := auth.uid();
begin
  if v_uid is null and v_app_actor ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' then
    v_uid := v_app_actor::uuid;
  end if;

  if tg_level = 'STATEMENT' then
    insert into public.audit_logs (table_schema, table_name, operation, user_id, actor, db_role)
    values (tg_table_schema, tg_table_name, tg_op, v_uid, coalesce(v_uid::text, v_app_actor, v_role), v_role);
    return null;
  end if;

  if tg_op <> 'INSERT' then
    v_old := to_jsonb(old);
  end if;
  if tg_op <> 'DELETE' then
    v_new := to_jsonb(new);
  end if;
  if tg_op = 'UPDATE' then
    select array_agg(n.key order by n.key) into v_changed
      from jsonb_each(v_new) n
      where n.value is distinct from v_old -> n.key;
    -- The WHEN clause already filters these; checked again for a trigger attached without it.
    if v_changed is null or v_changed <@ (tg_argv[1:tg_nargs - 1] || array['updated_at']) then
      return null;
    end if;
  end if;

  v_row := coalesce(v_new, v_old);
  insert into public.audit_logs (table_schema, table_name, record_id, operation, old_values, new_values,
    changed_columns, user_id, actor, db_role, org_id)
  values (tg_table_schema, tg_table_name,
    case when cardinality(v_pk) = 1 then v_row ->> v_pk[1]
         else (select string_agg(v_row ->> k, ',' order by o) from unnest(v_pk) with ordinality u(k, o)) end,
    tg_op, v_old, v_new, v_changed, v_uid, coalesce(v_uid::text, v_app_actor, v_role), v_role,
    (v_row ->> 'org_id')::uuid);
  return null;
end
$$;
revoke execute on function public.log_audit_event() from public, anon, authenticated, service_role;

-- Stops auditing p_table: disables its audit triggers, keeping their definition (and bookkeeping
-- list) for enable_audit(). Past rows stay. Safe to call twice, and on a table never audited.
-- Who may call: the table's owner (migrations). Changes the table's triggers.
create or replace function public.disable_audit(p_table regclass) returns void
language plpgsql
set search_path = ''
as $$
declare
  v_trigger text;
begin
  for v_trigger in
    select t.tgname from pg_catalog.pg_trigger t
    where t.tgrelid = p_table
      and t.tgname in ('audit_log_insert', 'audit_log_update', 'audit_log_delete', 'audit_log_truncate')
      and not t.tgisinternal and t.tgenabled <> 'D'
  loop
    execute format('alter table %s disable trigger %I', p_table, v_trigger);
  end loop;
end
$$;
revoke execute on function public.disable_audit(regclass) from public, anon, authenticated, service_role;

-- Starts (or resumes) auditing p_table. p_bookkeeping names columns whose changes alone are not
-- worth a row; null keeps the list the table's audit triggers already have (or none). Safe to call
-- twice: the triggers are created or replaced only when the key or the list differs, else just
-- enabled. Raises 22023 for a table without a primary key (its rows could not be told apart).
-- The update trigger's WHEN clause lists the table's other columns as they are now: a migration
-- that adds a column to an audited table calls enable_audit() again, or an update of that column
-- alone goes unrecorded (32_audit_test.sql fails until it does).
-- Who may call: the table's owner (migrations). Changes the table's triggers.
create or replace function public.enable_audit(p_table regclass, p_bookkeeping text[] default null)
returns void
language plpgsql
set search_path = ''
as $$
declare
  v_pk text;
  v_current text[];
  v_args text[];
  v_arg_list text;
  v_ignored text;
  v_old_cols text;
  v_new_cols text;
  v_trigger text;
begin
  select string_agg(a.attname, ',' order by k.ord) into v_pk
    from pg_catalog.pg_index i
    cross join lateral unnest(i.indkey) with ordinality k(attnum, ord)
    join pg_catalog.pg_attribute a on a.attrelid = i.indrelid and a.attnum = k.attnum
    where i.indrelid = p_table and i.indisprimary;
  if v_pk is null then
    raise exception 'enable_audit: % has no primary key', p_table using errcode = '22023';
  end if;

  -- Trigger arguments are stored as NUL-terminated strings.
  select string_to_array(regexp_replace(encode(t.tgargs, 'escape'), '\\000$', ''), '\000') into v_current
    from pg_catalog.pg_trigger t
    where t.tgrelid = p_table and t.tgname = 'audit_log_update' and not t.tgisinternal;

  v_args := array[v_pk] || case
    when p_bookkeeping is not null
      then coalesce((select array_agg(distinct c order by c) from unnest(p_bookkeeping) c), '{}')
    else coalesce(v_current[2:], '{}') end;

  if v_current is distinct from v_args
     or exists (  -- a column added since the triggers were made
       select 1 from pg_catalog.pg_attribute a, pg_catalog.pg_trigger t
       where a.attrelid = p_table and a.attnum > 0 and not a.attisdropped
         and t.tgrelid = p_table and t.tgname = 'audit_log_update'
         and a.attname <> all (v_args[2:] || array['updated_at'])
         and pg_catalog.pg_get_triggerdef(t.oid) !~ ('old\.' || pg_catalog.quote_ident(a.attname) || '[ ,)]')
         and pg_catalog.pg_get_triggerdef(t.oid) !~ 'to_jsonb\(old\.\*\)')
     or (select count(*) from pg_catalog.pg_trigger t
         where t.tgrelid = p_table and not t.tgisinternal
           and t.tgname in ('audit_log_insert', 'audit_log_update', 'audit_log_delete', 'audit_log_truncate')) <> 4 then
    for v_trigger in
      select t.tgname from pg_catalog.pg_trigger t
      where t.tgrelid = p_table and not t.tgisinternal
        and t.tgname in ('audit_log_insert', 'audit_log_update', 'audit_log_delete', 'audit_log_truncate')
    loop
      execute format('drop trigger %I on %s', v_trigger, p_table);
    end loop;
    select string_agg(pg_catalog.quote_literal(a), ', ') into v_arg_list from unnest(v_args) a;
    select string_agg('old.' || pg_catalog.quote_ident(a.attname), ', ' order by a.attnum),
           string_agg('new.' || pg_catalog.quote_ident(a.attname), ', ' order by a.attnum)
      into v_old_cols, v_new_cols
      from pg_catalog.pg_attribute a
      where a.attrelid = p_table and a.attnum > 0 and not a.attisdropped
        and a.attname <> all (v_args[2:] || array['updated_at']);
    execute format('create trigger audit_log_insert after insert on %s '
                   'for each row execute function public.log_audit_event(%s)', p_table, v_arg_list);
    begin
      execute format('create trigger audit_log_update after update on %s for each row '
                     'when (row(%s) is distinct from row(%s)) '
                     'execute function public.log_audit_event(%s)', p_table, v_old_cols, v_new_cols, v_arg_list);
    exception when undefined_function then
      -- A column type without equality (json, point, ...): compare the rows as jsonb instead.
      v_ignored := pg_catalog.quote_literal((v_args[2:] || array['updated_at'])::text) || '::text[]';
      execute format('create trigger audit_log_update after update on %s for each row '
                     'when ((to_jsonb(old.*) - %s) is distinct from (to_jsonb(new.*) - %s)) '
                     'execute function public.log_audit_event(%s)', p_table, v_ignored, v_ignored, v_arg_list);
    end;
    execute format('create trigger audit_log_delete after delete on %s '
                   'for each row execute function public.log_audit_event(%s)', p_table, v_arg_list);
    execute format('create trigger audit_log_truncate after truncate on %s '
                   'for each statement execute function public.log_audit_event(%s)', p_table, v_arg_list);
    return;
  end if;

  for v_trigger in
    select t.tgname from pg_catalog.pg_trigger t
    where t.tgrelid = p_table and t.tgenabled = 'D'
      and t.tgname in ('audit_log_insert', 'audit_log_update', 'audit_log_delete', 'audit_log_truncate')
  loop
    execute format('alter table %s enable trigger %I', p_table, v_trigger);
  end loop;
end
$$;
revoke execute on function public.enable_audit(regclass, text[]) from public, anon, authenticated, service_role;

-- The audited tables. For conversations, what messages and maintenance keep up to date is bookkeeping.
select public.enable_audit('public.conversations', array[
  'last_activity_at', 'last_customer_message_at', 'first_customer_message_at', 'first_response_at',
  'first_response_seconds', 'customer_message_count', 'bot_message_count', 'agent_message_count',
  'system_message_count', 'messages_purged_at']);
select public.enable_audit('public.clients');
select public.enable_audit('public.jobs');
select public.enable_audit('public.phone_numbers');
select public.enable_audit('public.ai_dispatcher_configs');

-- Row-level security: members read their organisations' trail; nobody writes it but the trigger.
alter table public.audit_logs enable row level security;
create policy audit_logs_member_read on public.audit_logs for select to authenticated
  using (org_id in (select public.user_org_ids()));

revoke all on public.audit_logs from public, anon, authenticated, service_role;
grant select on public.audit_logs to authenticated, service_role;
