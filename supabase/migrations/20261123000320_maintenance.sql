-- Housekeeping in SQL: closing abandoned conversations, pruning old messages, and retention for
-- audit logs, webhook logs and pg_cron's run history, each a function callable on its own and all
-- run by run_maintenance_tasks(), which pg_cron calls every five minutes where it exists (next
-- migration) and the dev server's timer calls elsewhere.
--
-- How each task stays cheap and gentle:
--   * Periods are per organisation (maintenance_settings; a null column means the default from
--     maintenance_defaults()). Each task walks the organisations that have candidate rows with a
--     loose index scan over a partial (org_id, time) index: one index probe per such organisation
--     yields its oldest row, and only an organisation whose oldest row is due is touched. A run
--     with nothing to do therefore reads a handful of index pages.
--   * Deletes and updates go in bounded batches (named constants below): each statement touches at
--     most one batch of rows, and a run stops after a bounded number of batches (the rest waits for
--     the next run), so one call stays bounded even with a large backlog. Batches are small (about
--     a millisecond for 500 messages) and a task rests between them as long as the last one took
--     (c_rest_ratio), so a backlog is worked off with half a core at most, leaving the rest to
--     live traffic. bench/sql-prune.mjs measures a writer alongside.
--   * A statement holds its row locks until the end of the call's transaction (a function cannot
--     commit part way). The rows are old ones nobody writes, except the claimed conversations,
--     which are taken with SKIP LOCKED and only block a customer writing to a long-closed thread.
--   * Time comes in as p_now (default now()), so tests shift time instead of sleeping.
--   * run_maintenance_tasks() runs ANALYZE on a table only when a task removed at least
--     c_analyze_threshold of its rows: the planner's statistics follow big changes, idle runs cost
--     nothing.

-- ---------------------------------------------------------------------------------------------
-- Periods
-- ---------------------------------------------------------------------------------------------

-- The default periods. Who may call: anyone. Changes nothing.
create or replace function public.maintenance_defaults(
  out abandon_after interval,
  out message_retention interval,
  out audit_retention interval,
  out webhook_log_retention interval,
  out cron_history_retention interval)
language sql immutable parallel safe
set search_path = ''
as $$
  select interval '24 hours',  -- open conversation with no activity for this long -> abandoned
         interval '7 days',    -- messages of conversations resolved longer ago than this are deleted
         interval '90 days',   -- audit log rows older than this are deleted
         interval '30 days',   -- webhook log rows older than this are deleted
         interval '7 days'     -- pg_cron run history older than this is deleted (not per organisation)
$$;
grant execute on function public.maintenance_defaults() to anon, authenticated, service_role;

-- Per-organisation overrides; a missing row or a null column means the default.
create table public.maintenance_settings (
  org_id uuid primary key references public.orgs (id) on delete cascade,
  abandon_after interval,
  message_retention interval,
  audit_retention interval,
  webhook_log_retention interval,
  updated_at timestamptz not null default now(),
  constraint maintenance_settings_abandon_positive check (abandon_after > interval '0'),
  constraint maintenance_settings_message_retention_positive check (message_retention > interval '0'),
  -- The trail must survive at least a day, so a change cannot be erased together with its record.
  constraint maintenance_settings_audit_retention_min check (audit_retention >= interval '1 day'),
  constraint maintenance_settings_webhook_retention_positive check (webhook_log_retention > interval '0')
);
comment on table public.maintenance_settings is
  'Per-organisation maintenance periods; null means maintenance_defaults(). Written by the service role only.';
comment on constraint maintenance_settings_audit_retention_min on public.maintenance_settings is
  'Audit rows are kept at least one day.';
create trigger maintenance_settings_touch before update on public.maintenance_settings
  for each row execute function public.touch_updated_at();

-- What applies to each organisation, defaults filled in. security_invoker: readers see only what
-- RLS on orgs lets them see.
create view public.effective_maintenance_settings with (security_invoker = true) as
  select o.id as org_id,
         coalesce(s.abandon_after, d.abandon_after) as abandon_after,
         coalesce(s.message_retention, d.message_retention) as message_retention,
         coalesce(s.audit_retention, d.audit_retention) as audit_retention,
         coalesce(s.webhook_log_retention, d.webhook_log_retention) as webhook_log_retention
  from public.orgs o
  cross join public.maintenance_defaults() d
  left join public.maintenance_settings s on s.org_id = o.id;

alter table public.maintenance_settings enable row level security;
create policy maintenance_settings_member_read on public.maintenance_settings for select to authenticated
  using (org_id in (select public.user_org_ids()));
revoke all on public.maintenance_settings, public.effective_maintenance_settings from anon, authenticated;
grant select on public.maintenance_settings, public.effective_maintenance_settings to authenticated;
grant select, insert, update, delete on public.maintenance_settings to service_role;
grant select on public.effective_maintenance_settings to service_role;

-- ---------------------------------------------------------------------------------------------
-- Abandoned conversations
-- ---------------------------------------------------------------------------------------------

-- Resolves open conversations (bot or queued) with no activity for the organisation's abandon_after
-- (default 24 h) before p_now: status resolved, reason abandoned, resolved_at p_now. The audit
-- trail records the change with actor 'maintenance'. Returns the number of conversations resolved.
-- p_batch_size / p_max_batches override the constants (tests use them to prove the bounds).
-- Who may call: the service role, pg_cron and run_maintenance_tasks().
create or replace function public.cleanup_abandoned_conversations(
  p_now timestamptz default now(), p_batch_size int default null, p_max_batches int default null)
returns bigint
language plpgsql security definer
set search_path = ''
as $$
declare
  c_batch_size constant int := 200;   -- conversations per UPDATE
  c_max_batches constant int := 500;  -- UPDATEs per call
  c_rest_ratio constant double precision := 1.0;  -- rest as long as each batch took: half a core at most
  v_batch int := coalesce(p_batch_size, c_batch_size);
  v_max int := coalesce(p_max_batches, c_max_batches);
  v_default interval := (select d.abandon_after from public.maintenance_defaults() d);
  v_prev_actor text := current_setting('app.actor', true);
  v_org record;
  v_n int;
  v_batches int := 0;
  v_total bigint := 0;
  v_rest double precision := 0;  -- seconds to rest before the next batch
  v_t timestamptz;
begin
  if p_now is null or v_batch < 1 or v_max < 1 then
    raise exception 'cleanup_abandoned_conversations: p_now must be given and batch bounds positive'
      using errcode = '22023';
  end if;
  perform set_config('app.actor', 'maintenance', true);

  for v_org in
    with recursive heads (org_id, oldest) as (
      (select c.org_id, c.last_activity_at from public.conversations c
        where c.status in ('bot', 'queued')
        order by c.org_id, c.last_activity_at limit 1)
      union all
      select n.org_id, n.last_activity_at
        from heads h
        cross join lateral (
          select c.org_id, c.last_activity_at from public.conversations c
          where c.status in ('bot', 'queued') and c.org_id > h.org_id
          order by c.org_id, c.last_activity_at limit 1) n
    )
    select h.org_id, p_now - coalesce(s.abandon_after, v_default) as cutoff
    from heads h left join public.maintenance_settings s on s.org_id = h.org_id
    where h.oldest < p_now - coalesce(s.abandon_after, v_default)
  loop
    loop
      exit when v_batches >= v_max;
      if v_rest > 0 then perform pg_sleep(v_rest); end if;
      v_t := clock_timestamp();
      -- The race: a customer message arriving while the sweep runs. Its trigger updates the
      -- conversation under the row lock; SKIP LOCKED passes over such a row instead of waiting, and
      -- the lock re-reads the newest committed version and re-checks status and last_activity_at, so
      -- a conversation that woke up after this statement's snapshot is not closed. (A message that
      -- commits after the sweep reopens the conversation: see update_conversation_metrics.)
      -- FOR NO KEY UPDATE is the FOR UPDATE variant the UPDATE takes anyway; it leaves the
      -- foreign-key checks of concurrent message inserts unblocked.
      update public.conversations c
        set status = 'resolved', resolution_reason = 'abandoned', resolved_at = p_now
        where c.id in (
          select o.id from public.conversations o
          where o.org_id = v_org.org_id and o.status in ('bot', 'queued')
            and o.last_activity_at < v_org.cutoff
          order by o.last_activity_at
          limit v_batch
          for no key update skip locked);
      get diagnostics v_n = row_count;
      v_rest := extract(epoch from clock_timestamp() - v_t) * c_rest_ratio;
      v_batches := v_batches + 1;
      v_total := v_total + v_n;
      exit when v_n < v_batch;
    end loop;
    exit when v_batches >= v_max;
  end loop;

  perform set_config('app.actor', coalesce(v_prev_actor, ''), true);
  return v_total;
end
$$;
revoke execute on function public.cleanup_abandoned_conversations(timestamptz, int, int) from public, anon, authenticated;
grant execute on function public.cleanup_abandoned_conversations(timestamptz, int, int) to service_role;

-- ---------------------------------------------------------------------------------------------
-- Old messages
-- ---------------------------------------------------------------------------------------------

-- Deletes the messages of conversations resolved more than the organisation's message_retention
-- (default 7 days) before p_now, then stamps those conversations' messages_purged_at. The
-- conversation row, its summary, counters and the daily rollup stay. Returns messages deleted.
-- Each DELETE removes at most one batch of messages; p_max_batches bounds the DELETEs per call (a
-- conversation cut off by the bound is finished by the next call).
-- Who may call: the service role, pg_cron and run_maintenance_tasks().
create or replace function public.cleanup_old_messages(
  p_now timestamptz default now(), p_batch_size int default null, p_max_batches int default null)
returns bigint
language plpgsql security definer
set search_path = ''
as $$
declare
  c_batch_size constant int := 500;            -- messages per DELETE
  c_max_batches constant int := 1000;          -- DELETEs per call
  c_rest_ratio constant double precision := 1.0;  -- rest as long as each batch took: half a core at most
  c_conversations_per_claim constant int := 50;  -- conversations locked per claim
  v_batch int := coalesce(p_batch_size, c_batch_size);
  v_max int := coalesce(p_max_batches, c_max_batches);
  v_default interval := (select d.message_retention from public.maintenance_defaults() d);
  v_org record;
  v_ids uuid[];
  v_n int;
  v_batches int := 0;
  v_total bigint := 0;
  v_rest double precision := 0;  -- seconds to rest before the next batch
  v_t timestamptz;
begin
  if p_now is null or v_batch < 1 or v_max < 1 then
    raise exception 'cleanup_old_messages: p_now must be given and batch bounds positive'
      using errcode = '22023';
  end if;

  <<orgs>>
  for v_org in
    with recursive heads (org_id, oldest) as (
      (select c.org_id, c.resolved_at from public.conversations c
        where c.status = 'resolved' and c.messages_purged_at is null
        order by c.org_id, c.resolved_at limit 1)
      union all
      select n.org_id, n.resolved_at
        from heads h
        cross join lateral (
          select c.org_id, c.resolved_at from public.conversations c
          where c.status = 'resolved' and c.messages_purged_at is null and c.org_id > h.org_id
          order by c.org_id, c.resolved_at limit 1) n
    )
    select h.org_id, p_now - coalesce(s.message_retention, v_default) as cutoff
    from heads h left join public.maintenance_settings s on s.org_id = h.org_id
    where h.oldest < p_now - coalesce(s.message_retention, v_default)
  loop
    loop
      exit orgs when v_batches >= v_max;
      -- The race: a customer writing to a long-resolved conversation while its messages are being
      -- deleted. Locking the claimed conversations (SKIP LOCKED: one being written is left for the
      -- next run) makes the new message's trigger wait until this transaction ends, and the lock
      -- re-checks that the conversation is still resolved and due. The new message itself is not
      -- visible to the DELETEs below, so it survives, and its trigger then clears messages_purged_at.
      select array_agg(x.id) into v_ids
        from (select c.id from public.conversations c
              where c.org_id = v_org.org_id and c.status = 'resolved' and c.messages_purged_at is null
                and c.resolved_at < v_org.cutoff
              order by c.resolved_at
              limit c_conversations_per_claim
              for no key update skip locked) x;
      exit when v_ids is null;

      loop
        if v_rest > 0 then perform pg_sleep(v_rest); end if;
        v_t := clock_timestamp();
        delete from public.messages m
          where m.ctid = any (array(
            select m2.ctid from public.messages m2 where m2.conversation_id = any (v_ids) limit v_batch));
        get diagnostics v_n = row_count;
        v_rest := extract(epoch from clock_timestamp() - v_t) * c_rest_ratio;
        v_batches := v_batches + 1;
        v_total := v_total + v_n;
        exit when v_n < v_batch or v_batches >= v_max;
      end loop;
      -- Stopped by the bound with messages left: the next call claims these conversations again.
      exit orgs when v_n >= v_batch
        and exists (select 1 from public.messages m where m.conversation_id = any (v_ids));

      update public.conversations c set messages_purged_at = p_now where c.id = any (v_ids);
      exit when cardinality(v_ids) < c_conversations_per_claim;
    end loop;
  end loop;
  return v_total;
end
$$;
revoke execute on function public.cleanup_old_messages(timestamptz, int, int) from public, anon, authenticated;
grant execute on function public.cleanup_old_messages(timestamptz, int, int) to service_role;

-- ---------------------------------------------------------------------------------------------
-- Retention: audit logs, webhook logs, pg_cron run history
-- ---------------------------------------------------------------------------------------------

-- The retention of the two log tables, audit_logs and webhook_logs, is one algorithm on two tables:
-- rows (org_id, created_at) older than their organisation's period (p_setting, a column of
-- maintenance_settings) are deleted, and rows without an organisation, or of an organisation since
-- deleted, go by p_default. Organisations are walked by a loose index scan over (org_id, created_at)
-- and only those whose oldest row is due are touched; each DELETE removes at most p_batch rows and a
-- call makes at most p_max DELETEs. Log rows are never updated, so no claim is needed.
-- Who may call: the two cleanup functions below only (no grant). Returns rows deleted.
create or replace function public.purge_old_log_rows(
  p_table regclass, p_setting text, p_default interval, p_now timestamptz, p_batch int, p_max int)
returns bigint
language plpgsql
set search_path = ''
as $$
declare
  c_rest_ratio constant double precision := 1.0;  -- rest as long as each batch took: half a core at most
  v_org record;
  v_n int;
  v_batches int := 0;
  v_total bigint := 0;
  v_rest double precision := 0;  -- seconds to rest before the next batch
  v_t timestamptz;
begin
  <<orgs>>
  for v_org in execute format($q$
    with recursive heads (org_id, oldest) as (
      (select t.org_id, t.created_at from %1$s t
        where t.org_id is not null order by t.org_id, t.created_at limit 1)
      union all
      select n.org_id, n.created_at
        from heads h
        cross join lateral (
          select t.org_id, t.created_at from %1$s t
          where t.org_id > h.org_id order by t.org_id, t.created_at limit 1) n
    )
    select h.org_id, $1 - coalesce(s.%2$I, $2) as cutoff
      from heads h left join public.maintenance_settings s on s.org_id = h.org_id
      where h.oldest < $1 - coalesce(s.%2$I, $2)
    union all
    select null, $1 - $2
      from (select t.created_at from %1$s t where t.org_id is null order by t.created_at limit 1) n
      where n.created_at < $1 - $2
    $q$, p_table, p_setting) using p_now, p_default
  loop
    loop
      exit orgs when v_batches >= p_max;
      if v_rest > 0 then perform pg_sleep(v_rest); end if;
      v_t := clock_timestamp();
      -- Two statements rather than "org_id is not distinct from $1", which no index serves.
      if v_org.org_id is null then
        execute format('delete from %1$s t where t.ctid = any (array(
            select t2.ctid from %1$s t2 where t2.org_id is null and t2.created_at < $1 limit $2))', p_table)
          using v_org.cutoff, p_batch;
      else
        execute format('delete from %1$s t where t.ctid = any (array(
            select t2.ctid from %1$s t2 where t2.org_id = $1 and t2.created_at < $2 limit $3))', p_table)
          using v_org.org_id, v_org.cutoff, p_batch;
      end if;
      get diagnostics v_n = row_count;
      v_rest := extract(epoch from clock_timestamp() - v_t) * c_rest_ratio;
      v_batches := v_batches + 1;
      v_total := v_total + v_n;
      exit when v_n < p_batch;
    end loop;
  end loop;
  return v_total;
end
$$;
revoke execute on function public.purge_old_log_rows(regclass, text, interval, timestamptz, int, int) from public, anon, authenticated;

-- Deletes audit_logs rows older than their organisation's audit_retention (default 90 days) before
-- p_now (see purge_old_log_rows). The only writer allowed to delete from audit_logs: it turns
-- app.maintenance on for its own statements (the append-only trigger checks it) and back off before
-- returning. Returns rows deleted. Who may call: the service role, pg_cron and run_maintenance_tasks().
create or replace function public.cleanup_old_audit_logs(
  p_now timestamptz default now(), p_batch_size int default null, p_max_batches int default null)
returns bigint
language plpgsql security definer
set search_path = ''
as $$
declare
  c_batch_size constant int := 1000;  -- rows per DELETE
  c_max_batches constant int := 500;  -- DELETEs per call
  v_batch int := coalesce(p_batch_size, c_batch_size);
  v_max int := coalesce(p_max_batches, c_max_batches);
  v_prev text := current_setting('app.maintenance', true);
  v_total bigint;
begin
  if p_now is null or v_batch < 1 or v_max < 1 then
    raise exception 'cleanup_old_audit_logs: p_now must be given and batch bounds positive'
      using errcode = '22023';
  end if;
  perform set_config('app.maintenance', 'on', true);
  v_total := public.purge_old_log_rows('public.audit_logs', 'audit_retention',
    (select d.audit_retention from public.maintenance_defaults() d), p_now, v_batch, v_max);
  perform set_config('app.maintenance', coalesce(v_prev, ''), true);
  return v_total;
end
$$;
revoke execute on function public.cleanup_old_audit_logs(timestamptz, int, int) from public, anon, authenticated;
grant execute on function public.cleanup_old_audit_logs(timestamptz, int, int) to service_role;

-- Deletes webhook_logs rows older than their organisation's webhook_log_retention (default 30 days)
-- before p_now (see purge_old_log_rows). Returns rows deleted.
-- Who may call: the service role, pg_cron and run_maintenance_tasks().
create or replace function public.cleanup_old_webhook_logs(
  p_now timestamptz default now(), p_batch_size int default null, p_max_batches int default null)
returns bigint
language plpgsql security definer
set search_path = ''
as $$
declare
  c_batch_size constant int := 1000;  -- rows per DELETE
  c_max_batches constant int := 500;  -- DELETEs per call
  v_batch int := coalesce(p_batch_size, c_batch_size);
  v_max int := coalesce(p_max_batches, c_max_batches);
begin
  if p_now is null or v_batch < 1 or v_max < 1 then
    raise exception 'cleanup_old_webhook_logs: p_now must be given and batch bounds positive'
      using errcode = '22023';
  end if;
  return public.purge_old_log_rows('public.webhook_logs', 'webhook_log_retention',
    (select d.webhook_log_retention from public.maintenance_defaults() d), p_now, v_batch, v_max);
end
$$;
revoke execute on function public.cleanup_old_webhook_logs(timestamptz, int, int) from public, anon, authenticated;
grant execute on function public.cleanup_old_webhook_logs(timestamptz, int, int) to service_role;

-- Deletes pg_cron's run history (cron.job_run_details) that ended more than p_keep (default 7 days)
-- before p_now; pg_cron never removes it itself. Returns rows deleted, or null where pg_cron is not
-- installed (plain Postgres, the embedded database) or its history is not ours to delete: the
-- table is reached through dynamic SQL so this function exists everywhere.
-- Who may call: the service role, pg_cron and run_maintenance_tasks().
create or replace function public.cleanup_cron_history(
  p_now timestamptz default now(), p_keep interval default null,
  p_batch_size int default null, p_max_batches int default null)
returns bigint
language plpgsql security definer
set search_path = ''
as $$
declare
  c_batch_size constant int := 1000;  -- rows per DELETE
  c_max_batches constant int := 500;  -- DELETEs per call
  c_rest_ratio constant double precision := 1.0;  -- rest as long as each batch took: half a core at most
  v_batch int := coalesce(p_batch_size, c_batch_size);
  v_max int := coalesce(p_max_batches, c_max_batches);
  v_cutoff timestamptz := p_now - coalesce(p_keep, (select d.cron_history_retention from public.maintenance_defaults() d));
  v_n int;
  v_batches int := 0;
  v_total bigint := 0;
  v_rest double precision := 0;  -- seconds to rest before the next batch
  v_t timestamptz;
begin
  if p_now is null or v_batch < 1 or v_max < 1 then
    raise exception 'cleanup_cron_history: p_now must be given and batch bounds positive'
      using errcode = '22023';
  end if;
  if to_regclass('cron.job_run_details') is null then
    return null;
  end if;
  if not has_table_privilege('cron.job_run_details', 'select, delete') then
    return null;
  end if;
  loop
    exit when v_batches >= v_max;
    if v_rest > 0 then perform pg_sleep(v_rest); end if;
    v_t := clock_timestamp();
    execute 'delete from cron.job_run_details d where d.runid = any (array(
               select d2.runid from cron.job_run_details d2 where d2.end_time < $1 limit $2))'
      using v_cutoff, v_batch;
    get diagnostics v_n = row_count;
    v_rest := extract(epoch from clock_timestamp() - v_t) * c_rest_ratio;
    v_batches := v_batches + 1;
    v_total := v_total + v_n;
    exit when v_n < v_batch;
  end loop;
  return v_total;
end
$$;
revoke execute on function public.cleanup_cron_history(timestamptz, interval, int, int) from public, anon, authenticated;
grant execute on function public.cleanup_cron_history(timestamptz, interval, int, int) to service_role;

-- ---------------------------------------------------------------------------------------------
-- The scheduled entry point
-- ---------------------------------------------------------------------------------------------

-- Runs every task above with the same p_now and returns what each did:
--   {"abandoned_conversations": {"rows": n, "ms": x}, "old_messages": {...}, "audit_logs": {...},
--    "webhook_logs": {...}, "cron_job_run_details": {"rows": n|null, "ms": x},
--    "security_state": {...} (when prune_security_state() exists), "analyzed": ["public.messages", ...],
--    "total_ms": x}
-- Then ANALYZEs each table from which at least c_analyze_threshold rows were removed or changed,
-- and only those. Two runs at once (pg_cron and a manual call) would only compete for the same
-- rows: a transaction-level advisory lock makes the second return {"skipped": "already running"}.
-- Who may call: the service role, pg_cron, the dev server's timer. Changes what the tasks change.
create or replace function public.run_maintenance_tasks(p_now timestamptz default now()) returns jsonb
language plpgsql security definer
set search_path = ''
as $$
declare
  c_analyze_threshold constant int := 10000;
  c_lock_key constant bigint := 7300320001;  -- any constant unique to this function
  v_started timestamptz := clock_timestamp();
  v_t timestamptz;
  v_n bigint;
  v_result jsonb := '{}'::jsonb;
  v_analyzed text[] := '{}';
  v_task record;
begin
  if not pg_catalog.pg_try_advisory_xact_lock(c_lock_key) then
    return jsonb_build_object('skipped', 'already running');
  end if;

  -- Each task in turn: its summary key, the call (given p_now as $1), the table it thins out.
  for v_task in
    select t.* from (values
      (1, 'abandoned_conversations', 'select public.cleanup_abandoned_conversations($1)', 'public.conversations'),
      (2, 'old_messages', 'select public.cleanup_old_messages($1)', 'public.messages'),
      (3, 'audit_logs', 'select public.cleanup_old_audit_logs($1)', 'public.audit_logs'),
      (4, 'webhook_logs', 'select public.cleanup_old_webhook_logs($1)', 'public.webhook_logs'),
      (5, 'cron_job_run_details', 'select public.cleanup_cron_history($1)', 'cron.job_run_details')
    ) as t(position, name, call, analyzed_table)
    order by t.position
  loop
    v_t := clock_timestamp();
    execute v_task.call into v_n using p_now;
    v_result := v_result || jsonb_build_object(v_task.name, jsonb_build_object(
      'rows', v_n, 'ms', round((extract(epoch from clock_timestamp() - v_t) * 1000)::numeric, 3)));
    if v_n >= c_analyze_threshold then
      execute format('analyze %s', v_task.analyzed_table);
      v_analyzed := array_append(v_analyzed, v_task.analyzed_table);
    end if;
  end loop;

  -- Replay ids and rate-limit windows (migration 20261123000400), when that migration is applied.
  if to_regprocedure('public.prune_security_state(integer)') is not null then
    v_t := clock_timestamp();
    execute 'select public.prune_security_state()' into v_n;
    v_result := v_result || jsonb_build_object('security_state', jsonb_build_object(
      'rows', v_n, 'ms', round((extract(epoch from clock_timestamp() - v_t) * 1000)::numeric, 3)));
  end if;

  return v_result || jsonb_build_object(
    'analyzed', to_jsonb(v_analyzed),
    'total_ms', round((extract(epoch from clock_timestamp() - v_started) * 1000)::numeric, 3));
end
$$;
revoke execute on function public.run_maintenance_tasks(timestamptz) from public, anon, authenticated;
grant execute on function public.run_maintenance_tasks(timestamptz) to service_role;
