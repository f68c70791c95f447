-- Schedules run_maintenance_tasks() with pg_cron where pg_cron can run, and does nothing elsewhere.
--
-- pg_cron can only be created in the database named by the cron.database_name setting (the
-- setting exists only when the server preloads pg_cron). So the extension is created when it is
-- available AND this is that database: on Supabase ('postgres'), and in CI's switchboard_cron
-- database. Plain Postgres without pg_cron, any other database on a pg_cron server, and the
-- embedded database (PGlite: no pg_cron) skip quietly; there the dev server's timer calls
-- run_maintenance_tasks() instead.
--
-- The jobs are listed once, in maintenance_cron_jobs(); install_maintenance_schedule() upserts them
-- by name (cron.schedule replaces a job of the same name), so applying this twice, or calling it
-- again after enabling pg_cron by hand, leaves exactly one job per name.

-- The jobs this project schedules. Who may call: anyone. Changes nothing.
create or replace function public.maintenance_cron_jobs()
returns table (jobname text, schedule text, command text)
language sql immutable parallel safe
set search_path = ''
as $$
  values ('switchboard-maintenance', '*/5 * * * *', 'select public.run_maintenance_tasks()')
$$;
grant execute on function public.maintenance_cron_jobs() to authenticated, service_role;

-- Upserts every job of maintenance_cron_jobs() into pg_cron, as the calling role (cron.schedule
-- runs a job as the role that scheduled it). Returns the number of jobs scheduled; 0 without pg_cron.
-- Who may call: the database owner (migrations, or by hand after `create extension pg_cron`).
-- Changes cron.job.
create or replace function public.install_maintenance_schedule() returns int
language plpgsql
set search_path = ''
as $$
declare
  v_job record;
  v_count int := 0;
begin
  if to_regprocedure('cron.schedule(text, text, text)') is null then
    return 0;
  end if;
  -- On Supabase the postgres role is granted pg_cron's schema once the extension exists; where it
  -- is not, say so and leave the migration to succeed.
  if not has_function_privilege('cron.schedule(text, text, text)', 'execute')
     or not has_schema_privilege('cron', 'usage') then
    raise notice 'install_maintenance_schedule: % may not use pg_cron; nothing scheduled', current_user;
    return 0;
  end if;
  for v_job in select * from public.maintenance_cron_jobs() loop
    execute 'select cron.schedule($1, $2, $3)' using v_job.jobname, v_job.schedule, v_job.command;
    v_count := v_count + 1;
  end loop;
  return v_count;
end
$$;
revoke execute on function public.install_maintenance_schedule() from public, anon, authenticated, service_role;

do $$
begin
  if exists (select 1 from pg_catalog.pg_available_extensions where name = 'pg_cron')
     and current_database() = current_setting('cron.database_name', true) then
    -- pg_catalog as Supabase's documentation does; pg_cron keeps its own tables in schema cron.
    create extension if not exists pg_cron with schema pg_catalog;
  end if;
  perform public.install_maintenance_schedule();
end
$$;
