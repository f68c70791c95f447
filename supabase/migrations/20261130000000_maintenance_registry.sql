-- Registries for maintenance: the tasks run_maintenance_tasks() runs and the pg_cron jobs the
-- project schedules, as rows instead of lists written inside two functions.
--
-- Why: every feature that adds time-based work (chat sessions that go idle, the outbox sweep,
-- agent sessions that expire, alert evaluation) needs a task or a job. With the lists inside the
-- functions, each such migration had to restate run_maintenance_tasks() whole, and two features
-- landing together would overwrite each other's version. Now a feature's migration registers its
-- own rows (`insert ... on conflict (name) do update`) and the entry points stay as they are.
--
-- run_maintenance_tasks() keeps its contract: same summary keys, same ANALYZE rule, same lock.

-- ---------------------------------------------------------------------------------------------
-- Tasks
-- ---------------------------------------------------------------------------------------------
create table public.maintenance_tasks (
  -- The key in run_maintenance_tasks()'s summary.
  name text primary key check (name ~ '^[a-z][a-z0-9_]*$'),
  -- Tasks run in ascending position.
  position int not null,
  -- One SQL statement returning one bigint (rows touched); $1 is the run's p_now (it may be unused).
  call text not null,
  -- Analysed after a run that touched at least the threshold of rows; null for none.
  analyzed_table text,
  -- A task whose function is missing (its migration not applied) is skipped, not an error.
  requires_function text,
  enabled boolean not null default true
);
comment on table public.maintenance_tasks is
  'What run_maintenance_tasks() runs, in position order. Feature migrations register their own rows.';
alter table public.maintenance_tasks enable row level security;
revoke all on public.maintenance_tasks from anon, authenticated;
grant select on public.maintenance_tasks to service_role;

insert into public.maintenance_tasks (name, position, call, analyzed_table, requires_function) values
  ('abandoned_conversations', 10, 'select public.cleanup_abandoned_conversations($1)', 'public.conversations', null),
  ('old_messages', 20, 'select public.cleanup_old_messages($1)', 'public.messages', null),
  ('audit_logs', 30, 'select public.cleanup_old_audit_logs($1)', 'public.audit_logs', null),
  ('webhook_logs', 40, 'select public.cleanup_old_webhook_logs($1)', 'public.webhook_logs', null),
  ('cron_job_run_details', 50, 'select public.cleanup_cron_history($1)', 'cron.job_run_details', null),
  ('security_state', 60, 'select public.prune_security_state()', null, 'public.prune_security_state(integer)')
on conflict (name) do nothing;

-- Runs every enabled task of maintenance_tasks with the same p_now and returns what each did:
--   {"abandoned_conversations": {"rows": n, "ms": x}, ..., "analyzed": ["public.messages", ...],
--    "total_ms": x}
-- ANALYZEs each table from which at least c_analyze_threshold rows were removed or changed, and
-- only those. Two runs at once (pg_cron and a manual call) would only compete for the same rows: a
-- transaction-level advisory lock makes the second return {"skipped": "already running"}.
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
  if p_now is null then
    raise exception 'run_maintenance_tasks: p_now must be given' using errcode = '22023';
  end if;
  if not pg_catalog.pg_try_advisory_xact_lock(c_lock_key) then
    return jsonb_build_object('skipped', 'already running');
  end if;

  for v_task in
    select t.* from public.maintenance_tasks t
    where t.enabled
      and (t.requires_function is null or pg_catalog.to_regprocedure(t.requires_function) is not null)
    order by t.position, t.name
  loop
    v_t := clock_timestamp();
    execute v_task.call into v_n using p_now;
    v_result := v_result || jsonb_build_object(v_task.name, jsonb_build_object(
      'rows', v_n, 'ms', round((extract(epoch from clock_timestamp() - v_t) * 1000)::numeric, 3)));
    if v_task.analyzed_table is not null and v_n >= c_analyze_threshold then
      execute format('analyze %s', v_task.analyzed_table);
      v_analyzed := array_append(v_analyzed, v_task.analyzed_table);
    end if;
  end loop;

  return v_result || jsonb_build_object(
    'analyzed', to_jsonb(v_analyzed),
    'total_ms', round((extract(epoch from clock_timestamp() - v_started) * 1000)::numeric, 3));
end
$$;
revoke execute on function public.run_maintenance_tasks(timestamptz) from public, anon, authenticated;
grant execute on function public.run_maintenance_tasks(timestamptz) to service_role;

-- ---------------------------------------------------------------------------------------------
-- pg_cron jobs
-- ---------------------------------------------------------------------------------------------
create table public.scheduled_jobs (
  jobname text primary key check (jobname ~ '^switchboard-[a-z0-9-]+$'),
  schedule text not null,
  command text not null
);
comment on table public.scheduled_jobs is
  'The pg_cron jobs install_maintenance_schedule() upserts by name. Feature migrations register their own rows.';
alter table public.scheduled_jobs enable row level security;
revoke all on public.scheduled_jobs from anon, authenticated;
grant select on public.scheduled_jobs to service_role;

insert into public.scheduled_jobs values
  ('switchboard-maintenance', '*/5 * * * *', 'select public.run_maintenance_tasks()')
on conflict (jobname) do nothing;

-- The jobs this project schedules, as before, now read from scheduled_jobs.
-- Who may call: anyone granted below. Changes nothing.
create or replace function public.maintenance_cron_jobs()
returns table (jobname text, schedule text, command text)
language sql stable security definer
set search_path = ''
as $$
  select j.jobname, j.schedule, j.command from public.scheduled_jobs j order by j.jobname
$$;
grant execute on function public.maintenance_cron_jobs() to authenticated, service_role;

-- Registers (or replaces) one job and installs it in pg_cron where pg_cron is here. For feature
-- migrations. Returns the number of jobs now installed in pg_cron (0 without it).
-- Who may call: the database owner (migrations). Changes scheduled_jobs and cron.job.
create or replace function public.register_scheduled_job(p_jobname text, p_schedule text, p_command text)
returns int
language plpgsql
set search_path = ''
as $$
begin
  insert into public.scheduled_jobs (jobname, schedule, command) values (p_jobname, p_schedule, p_command)
  on conflict (jobname) do update set schedule = excluded.schedule, command = excluded.command;
  return public.install_maintenance_schedule();
end
$$;
revoke execute on function public.register_scheduled_job(text, text, text) from public, anon, authenticated, service_role;
