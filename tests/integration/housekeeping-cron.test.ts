// pg_cron on a real server: the migrations must create the extension in the database that
// cron.database_name names (CI: switchboard_cron, see .ci/run), schedule the maintenance job there,
// and stay idempotent when applied again. pg_cron needs shared_preload_libraries = 'pg_cron' and a
// server restart, so where the server lacks it this suite is skipped with the reason (never under CI).
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { migrate } from "../../scripts/migrate.mjs";
import { SERVER_URL, databaseUrl } from "../support/database.ts";

const CRON_DATABASE = "switchboard_cron";
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const scheduleMigration = path.join(root, "supabase/migrations/20261123000330_maintenance_schedule.sql");

async function cronUnavailableReason(): Promise<string | null> {
  const admin = postgres(SERVER_URL, { max: 1, onnotice: () => {} });
  try {
    const [row] = await admin`
      select current_setting('cron.database_name', true) as database,
             exists (select 1 from pg_available_extensions where name = 'pg_cron') as available`;
    if (!row.available) return "pg_cron is not installed on the server (apt-get install postgresql-15-cron)";
    if (row.database === null) return "the server does not preload pg_cron (shared_preload_libraries = 'pg_cron')";
    if (row.database !== CRON_DATABASE) {
      return `cron.database_name is ${row.database}, not ${CRON_DATABASE}; this suite only recreates ${CRON_DATABASE}`;
    }
    return null;
  } finally {
    await admin.end();
  }
}

const skipReason = await cronUnavailableReason();
// .ci/run sets pg_cron up, so under CI a missing pg_cron is a failure, not a reason to skip.
if (skipReason && process.env.CI === "true") throw new Error(`housekeeping-cron: ${skipReason}`);
if (skipReason) console.warn(`housekeeping-cron: skipped: ${skipReason}`);

describe.skipIf(skipReason !== null)("maintenance schedule with pg_cron", () => {
  let sql: postgres.Sql;

  beforeAll(async () => {
    const admin = postgres(SERVER_URL, { max: 1, onnotice: () => {} });
    try {
      await admin.unsafe(`drop database if exists ${CRON_DATABASE} with (force)`);
      await admin.unsafe(`create database ${CRON_DATABASE}`);
    } finally {
      await admin.end();
    }
    await migrate(databaseUrl(CRON_DATABASE), { bootstrap: true });
    sql = postgres(databaseUrl(CRON_DATABASE), { max: 1, onnotice: () => {} });
  }, 120_000);
  afterAll(async () => {
    // The database stays: it is the one pg_cron watches, and the next run recreates it.
    await sql?.end();
  });

  const ourJobs = () => sql`
    select j.jobid, j.jobname, j.schedule, j.command, j.database, j.username, j.active
    from cron.job j join public.maintenance_cron_jobs() m on m.jobname = j.jobname
    order by j.jobname`;

  it("creates pg_cron and schedules run_maintenance_tasks() every five minutes", async () => {
    const jobs = (await ourJobs()).filter((j) => j.jobname === "switchboard-maintenance");
    expect(jobs.map(({ jobid, ...job }) => job)).toEqual([
      {
        jobname: "switchboard-maintenance",
        schedule: "*/5 * * * *",
        command: "select public.run_maintenance_tasks()",
        database: CRON_DATABASE,
        username: "postgres",
        active: true,
      },
    ]);
  });

  it("schedules evaluate_alerts() every minute", async () => {
    const jobs = (await ourJobs()).filter((j) => j.jobname === "switchboard-alerts");
    expect(jobs.map(({ jobid, ...job }) => job)).toEqual([
      {
        jobname: "switchboard-alerts",
        schedule: "* * * * *",
        command: "select public.evaluate_alerts()",
        database: CRON_DATABASE,
        username: "postgres",
        active: true,
      },
    ]);
  });

  it("keeps one job per name when migrated again and when the schedule migration runs twice", async () => {
    const maintenanceJob = async () => (await ourJobs()).filter((j) => j.jobname === "switchboard-maintenance");
    const before = await maintenanceJob();
    await migrate(databaseUrl(CRON_DATABASE), { bootstrap: true });
    // The original schedule migration lists its one job; later migrations register theirs beside it.
    await sql.unsafe(readFileSync(scheduleMigration, "utf8"));
    const [{ installed }] = await sql`select public.install_maintenance_schedule() as installed`;
    const [{ listed }] = await sql`select count(*)::int as listed from public.maintenance_cron_jobs()`;
    const after = await maintenanceJob();
    expect(installed).toBe(listed);
    expect(after).toEqual(before);
  });

  it("deletes pg_cron's run history older than a week", async () => {
    const [{ jobid }] = await ourJobs();
    await sql`
      insert into cron.job_run_details (jobid, job_pid, database, username, command, status, return_message, start_time, end_time)
      values (${jobid}, 1, ${CRON_DATABASE}, 'postgres', 'select 1', 'succeeded', '1 row', now() - interval '10 days', now() - interval '10 days'),
             (${jobid}, 2, ${CRON_DATABASE}, 'postgres', 'select 1', 'succeeded', '1 row', now() - interval '1 day', now() - interval '1 day')`;
    const [{ summary }] = await sql`select public.run_maintenance_tasks() as summary`;
    const [{ left }] = await sql`
      select count(*)::int as left from cron.job_run_details where job_pid in (1, 2) and jobid = ${jobid}`;
    expect(summary.cron_job_run_details.rows).toBe(1);
    expect(left).toBe(1);
  });
});
