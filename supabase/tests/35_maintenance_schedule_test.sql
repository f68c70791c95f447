-- pg_cron schedule (migration 20261123000330): the job list, and the guard that creates pg_cron only
-- in the database cron.database_name names. On a server without pg_cron, or in any other database
-- (npm run test:sql uses a fresh one), nothing is scheduled; tests/integration/housekeeping-cron.test.ts
-- covers the database where pg_cron runs.
begin;
set local search_path = public, extensions;
select plan(5);

select results_eq($$select jobname, schedule, command from public.maintenance_cron_jobs()
                    where jobname = 'switchboard-maintenance'$$,
  $$values ('switchboard-maintenance'::text, '*/5 * * * *'::text, 'select public.run_maintenance_tasks()'::text)$$,
  'one job runs run_maintenance_tasks() every five minutes (features register their own jobs beside it)');

select ok(to_regnamespace('cron') is null
          or current_database() = current_setting('cron.database_name', true),
  'pg_cron is never created outside the database cron.database_name names');

select is(public.install_maintenance_schedule(),
  case when to_regprocedure('cron.schedule(text, text, text)') is null then 0
       else (select count(*)::int from public.maintenance_cron_jobs()) end,
  'install_maintenance_schedule() schedules every job where pg_cron is installed and nothing elsewhere');
select is(public.install_maintenance_schedule(),
  case when to_regprocedure('cron.schedule(text, text, text)') is null then 0
       else (select count(*)::int from public.maintenance_cron_jobs()) end,
  'and can be called again');

select ok(not has_function_privilege('service_role', 'public.install_maintenance_schedule()', 'execute')
          and not has_function_privilege('authenticated', 'public.install_maintenance_schedule()', 'execute'),
  'only the owner may change the schedule');

select * from finish();
rollback;
