// Delivery against real Postgres and local receivers: two runs at once deliver each notice once;
// an organisation's destination at a private address is refused without a request; a 410 gives up.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createNoticeDeliverer } from "../../functions/_shared/alerts/deliver.ts";
import { createLogger } from "../../functions/_shared/log/logger.ts";
import { startAlertReceiver, type AlertReceiver } from "../support/alert-receiver.ts";
import { createTestDatabase, type TestDatabase } from "../support/database.ts";
import { scriptedServer } from "./security/support.ts";

const SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const logger = createLogger({}, { level: "error", sink: () => {} });
let db: TestDatabase;
let receiver: AlertReceiver;
let orgId: string;

/** Queues `n` firing notices for incidents of the given destination. */
async function queue(destinationId: string, n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    await db.sql`delete from public.alert_incidents where rule_name = 'customers_waiting' and status <> 'resolved'`;
    const [inc] = await db.sql`
      insert into public.alert_incidents (rule_name, org_id, status, severity, value, threshold, window_seconds,
                                          clear_seconds, started_at, fired_at, last_seen_at)
      values ('customers_waiting', ${orgId}, 'firing', 'warning', 1, 1, 300, 60, now(), now(), now()) returning *`;
    await db.sql`update public.alert_incidents set status = 'resolved', resolved_at = now(), cleared_since = now() where id = ${inc.id}`;
    await db.sql`
      insert into public.alert_notices (incident_id, org_id, destination_id, transition, payload, next_attempt_at, created_at)
      values (${inc.id}, ${orgId}, ${destinationId}, 'firing', ${JSON.stringify({ type: "alert.firing", n: i, data: { rule: "customers_waiting" } })}::text::jsonb, now(), now())`;
  }
}

async function destination(url: string): Promise<string> {
  const [d] = await db.sql`
    insert into public.alert_destinations (org_id, name, url, secret)
    values (${orgId}, ${`d-${crypto.randomUUID().slice(0, 8)}`}, ${url}, ${SECRET}) returning id`;
  return d.id;
}

beforeAll(async () => {
  db = await createTestDatabase();
  [{ id: orgId }] = await db.sql`insert into public.orgs (name) values ('Delivery Co') returning id`;
  receiver = await startAlertReceiver(SECRET);
});
afterAll(async () => {
  await receiver?.close();
  await db?.drop();
});
beforeEach(async () => {
  await db.sql`delete from public.alert_notices`;
});

describe("alert notice delivery", () => {
  it("delivers each notice once when two runs claim at the same time", async () => {
    const id = await destination(receiver.url);
    await queue(id, 6);
    const deliverer = () => createNoticeDeliverer({ sql: db.sql, logger, allowPrivateUrls: true, batchSize: 4 });
    const runs = await Promise.all([deliverer().run(), deliverer().run(), deliverer().run()]);
    expect(runs.reduce((n, r) => n + r.sent, 0)).toBe(6);
    expect(receiver.accepted).toHaveLength(6);
    expect(new Set(receiver.accepted.map((n) => n.webhookId)).size).toBe(6);
    const [{ sent }] = await db.sql`select count(*)::int as sent from public.alert_notices where status = 'sent' and attempts = 1`;
    expect(sent).toBe(6);
  });

  it("refuses an organisation's destination at a private address, without a request", async () => {
    const before = receiver.attempts.length;
    const id = await destination(receiver.url);
    await queue(id, 1);
    const run = await createNoticeDeliverer({ sql: db.sql, logger }).run();
    expect(run).toMatchObject({ claimed: 1, failed: 1, sent: 0 });
    expect(receiver.attempts.length).toBe(before);
    const [n] = await db.sql`select status, last_error from public.alert_notices`;
    expect(n).toEqual({ status: "failed", last_error: "url_not_https" });
  });

  it("gives up at once on 410 Gone, and retries later on other refusals", async () => {
    const gone = await scriptedServer(() => ({ status: 410 }));
    const teapot = await scriptedServer(() => ({ status: 418 }));
    try {
      await queue(await destination(gone.url), 1);
      await queue(await destination(teapot.url), 1);
      const run = await createNoticeDeliverer({ sql: db.sql, logger, allowPrivateUrls: true }).run();
      expect(run).toMatchObject({ claimed: 2, failed: 1, retrying: 1 });
      const rows = await db.sql`select status, last_error from public.alert_notices order by last_error`;
      expect(rows).toEqual([{ status: "failed", last_error: "http_410" }, { status: "pending", last_error: "http_418" }]);
    } finally {
      await gone.close();
      await teapot.close();
    }
  });
});
