// The embedded database (PGlite: Postgres compiled to WASM, no pg_cron; pg_trgm and pgvector
// loaded as `npm start` loads them) must take every migration as it is and run maintenance, because `npm start` uses it and
// the dev server's timer calls run_maintenance_tasks() there instead of pg_cron.
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { PGlite } from "@electric-sql/pglite";
import { extensionsInMigrations, pgliteExtensions } from "../../scripts/embedded-db.mjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const migrationsDir = path.join(root, "supabase/migrations");

let pg: PGlite;
beforeAll(async () => {
  // As `npm start` does: the extensions the migrations name that PGlite ships (pg_trgm, vector).
  const { extensions } = await pgliteExtensions(await extensionsInMigrations());
  pg = new PGlite({ extensions });
  await pg.exec(readFileSync(path.join(root, "scripts/bootstrap.sql"), "utf8"));
  for (const file of readdirSync(migrationsDir).filter((f) => /^\d+_.*\.sql$/.test(f)).sort()) {
    try {
      await pg.exec(readFileSync(path.join(migrationsDir, file), "utf8"));
    } catch (error) {
      throw new Error(`${file} does not apply on PGlite: ${(error as Error).message}`);
    }
  }
}, 120_000);
afterAll(async () => {
  await pg?.close();
});

describe("housekeeping on the embedded database", () => {
  it("runs every maintenance task, skipping pg_cron's history", async () => {
    const { rows } = await pg.query<{ summary: Record<string, { rows: number | null }> }>(
      "select public.run_maintenance_tasks() as summary",
    );
    const summary = rows[0].summary;
    expect(summary.abandoned_conversations.rows).toBe(0);
    expect(summary.old_messages.rows).toBe(0);
    expect(summary.cron_job_run_details.rows).toBeNull();
    expect(summary.analyzed).toEqual([]);
  });

  it("schedules nothing, since pg_cron is not there", async () => {
    const { rows } = await pg.query<{ jobs: number; cron: string | null }>(
      "select public.install_maintenance_schedule() as jobs, to_regnamespace('cron')::text as cron",
    );
    expect(rows[0]).toEqual({ jobs: 0, cron: null });
  });

  it("evaluates alerts there too (npm start's timer runs evaluate_alerts()): an error burst fires once", async () => {
    await pg.exec(`
      insert into public.alert_destinations (org_id, name, url, secret)
        values (null, 'local', 'http://127.0.0.1:9/alerts', 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw');
      select public.evaluate_alerts(now());
      select public.metrics_add('[{"name": "switchboard_http_requests_total", "labels": {"function": "telnyx-webhook", "status": "503"}, "value": 20}]');
    `);
    const { rows } = await pg.query<{ r: { fired: number; errors: Record<string, string> } }>(
      "select public.evaluate_alerts(now() + interval '1 second') as r",
    );
    const claimed = await pg.query<{ n: number }>("select jsonb_array_length(public.alert_claim_notices(10, 60)) as n");
    expect(rows[0].r).toMatchObject({ fired: 1, errors: {} });
    expect(claimed.rows[0].n).toBe(1);
  });

  it("closes an idle chat and prunes an old one's messages with time shifted", async () => {
    await pg.exec(`
      insert into public.orgs (id, name) values ('a0000000-0000-4000-8000-000000000001', 'Embedded Co');
      insert into public.conversations (id, org_id, channel, external_id) values
        ('a0000000-0000-4000-8000-0000000000d1', 'a0000000-0000-4000-8000-000000000001', 'web', 'idle');
      insert into public.messages (conversation_id, org_id, sender_type, body) values
        ('a0000000-0000-4000-8000-0000000000d1', 'a0000000-0000-4000-8000-000000000001', 'customer', 'hello?');
    `);
    const day2 = await pg.query<{ summary: Record<string, { rows: number }> }>(
      "select public.run_maintenance_tasks(now() + interval '25 hours') as summary",
    );
    const day9 = await pg.query<{ summary: Record<string, { rows: number }> }>(
      "select public.run_maintenance_tasks(now() + interval '9 days') as summary",
    );
    const { rows } = await pg.query(
      `select c.status, c.resolution_reason, c.customer_message_count, (select count(*)::int from public.messages) as messages
       from public.conversations c where c.id = 'a0000000-0000-4000-8000-0000000000d1'`,
    );
    expect([day2.rows[0].summary.abandoned_conversations.rows, day9.rows[0].summary.old_messages.rows]).toEqual([1, 1]);
    expect(rows[0]).toEqual({ status: "resolved", resolution_reason: "abandoned", customer_message_count: 1, messages: 0 });
  });
});
