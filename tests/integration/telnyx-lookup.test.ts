// The webhook handler, in process, against a real database: who is calling, and what we tell the
// assistant about them. Real signatures, real SQL functions, real triggers.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSql } from "../../functions/_shared/db/client.ts";
import { createLogger } from "../../functions/_shared/log/logger.ts";
import { settleBackground } from "../../functions/_shared/runtime/background.ts";
import { importTelnyxPublicKey } from "../../functions/_shared/signatures/telnyx.ts";
import { createTelnyxWebhookHandler, type TelnyxWebhookHandler } from "../../functions/_shared/telnyx/handler.ts";
import { createTestDatabase, type TestDatabase } from "../support/database.ts";
import { createClient, createJob, createOrgWithNumber } from "../support/fixtures.ts";
import { generateEd25519KeyPair, initializationEvent, signTelnyx, type Ed25519KeyPair } from "../support/telnyx-signing.ts";

const ORG_NUMBER = "+14165550100";
const OTHER_ORG_NUMBER = "+16475550100"; // same last 7 digits as ORG_NUMBER, another organisation
const JANE = "+14165550199";

let db: TestDatabase;
let keys: Ed25519KeyPair;
let handler: TelnyxWebhookHandler;
let orgId: string;
let otherOrgId: string;
const logLines: string[] = [];

function makeHandler(overrides: Partial<Parameters<typeof createTelnyxWebhookHandler>[0]> = {}) {
  return createTelnyxWebhookHandler({
    sql: createSql(db.url, { max: 2 }),
    publicKey: importTelnyxPublicKey(keys.publicKey),
    deadlineMs: 2500,
    configCacheTtlMs: 300_000,
    logger: createLogger({}, { sink: (line) => logLines.push(line) }),
    now: () => new Date("2026-11-23T20:00:00Z"), // Monday 15:00 in Toronto
    ...overrides,
  });
}

async function call(from: string | undefined, to: string, h: TelnyxWebhookHandler = handler) {
  const body = initializationEvent(from as string, to);
  const res = await h(
    new Request("http://localhost/telnyx-webhook", { method: "POST", body, headers: await signTelnyx(keys.privateKey, body) }),
  );
  expect(res.status).toBe(200);
  const json = (await res.json()) as { dynamic_variables: Record<string, string> };
  return json.dynamic_variables;
}

beforeAll(async () => {
  db = await createTestDatabase();
  keys = await generateEd25519KeyPair();
  ({ orgId } = await createOrgWithNumber(db.sql, {
    name: "Pinecrest",
    number: "(416) 555-0100",
    businessHours: { mon: [["08:00", "18:00"]] },
    variables: { service_area: "Toronto" },
  }));
  ({ orgId: otherOrgId } = await createOrgWithNumber(db.sql, { name: "Other Co", number: OTHER_ORG_NUMBER }));

  const jane = await createClient(db.sql, orgId, "Jane Cooper", "(416) 555-0199");
  await createJob(db.sql, orgId, jane, { status: "completed", services: ["Furnace repair"], scheduledAt: "2026-10-14T15:00:00Z", total: 420, paid: 300 });
  await createJob(db.sql, orgId, jane, { status: "completed", services: "AC tune-up", scheduledAt: "2026-05-01T15:00:00Z", total: 150, paid: 150 });
  await createJob(db.sql, orgId, jane, { status: "cancelled", services: ["Duct cleaning"], scheduledAt: "2026-11-01T15:00:00Z", total: 999, paid: 0 });
  await createJob(db.sql, orgId, jane, { status: "scheduled", services: ["Water heater inspection"], scheduledAt: "2099-01-05T15:00:00Z", total: 95, paid: 0 });
  // Shares Jane's last 7 digits, but not her number.
  await createClient(db.sql, orgId, "Wrong Person", "(905) 555-0199");
  // Two people on one number.
  await createClient(db.sql, orgId, "Sam Patel", "416-555-0142");
  await createClient(db.sql, orgId, "Priya Patel", "+1 416 555 0142");
  // Jane's number in another organisation belongs to someone else.
  await createClient(db.sql, otherOrgId, "Other Org Client", "+1 416 555 0199");
  handler = makeHandler();
});

afterAll(async () => {
  await settleBackground();
  await db.drop();
});

describe("caller recognition", () => {
  it.each(["+14165550199", "+1 (416) 555-0199", "416.555.0199", "14165550199"])(
    "recognises Jane when her number arrives as %s",
    async (from) => {
      const vars = await call(from, ORG_NUMBER);
      expect(vars).toMatchObject({ customer_name: "Jane Cooper", lookup_status: "found", is_existing_customer: "true" });
    },
  );

  it("reports her history: non-cancelled jobs, last completed service, next visit, unpaid balance", async () => {
    const vars = await call(JANE, ORG_NUMBER);
    expect(vars).toMatchObject({
      customer_job_count: "3",
      last_service: "Furnace repair",
      last_service_date: "October 14, 2026",
      next_job: "Water heater inspection",
      // Canadian dollars in the fixture organisation's en-US locale.
      outstanding_balance: "CA$215.00",
      has_outstanding_balance: "true",
      company_name: "Pinecrest",
      business_open_now: "true",
      service_area: "Toronto",
      greeting: "Hi Jane, this is Pinecrest.",
    });
  });

  it("never matches on the last seven digits alone", async () => {
    const vars = await call("+16475550199", ORG_NUMBER);
    expect(vars).toMatchObject({ customer_name: "", lookup_status: "not_found", is_existing_customer: "false" });
  });

  it("answers with the configuration of the number called, never another with the same last digits", async () => {
    const vars = await call(JANE, OTHER_ORG_NUMBER);
    expect(vars.company_name).toBe("Other Co");
    expect(vars.customer_name).toBe("Other Org Client");
  });

  it("gives no name and no balance when two clients share the number", async () => {
    const vars = await call("+14165550142", ORG_NUMBER);
    expect(vars).toMatchObject({ customer_name: "", outstanding_balance: "", lookup_status: "ambiguous", caller_ambiguous: "true" });
  });

  it.each(["anonymous", "sip:jane@example.com", "", undefined])("treats %j as an unknown caller", async (from) => {
    const vars = await call(from, ORG_NUMBER);
    expect(vars).toMatchObject({ customer_name: "", lookup_status: "not_found", company_name: "Pinecrest" });
  });

  it("gives the defaults for a number we do not serve", async () => {
    const vars = await call(JANE, "+18005550000");
    expect(vars).toMatchObject({ company_name: "", customer_name: "", dispatcher_configured: "false", lookup_status: "not_found" });
  });

  it("gives the defaults for a number whose dispatcher is switched off", async () => {
    const off = await createOrgWithNumber(db.sql, { name: "Off Co", number: "+14165550177", enabled: false });
    await createClient(db.sql, off.orgId, "Hidden", JANE);
    const vars = await call(JANE, "+14165550177");
    expect(vars).toMatchObject({ company_name: "", customer_name: "", dispatcher_configured: "false" });
  });

  it("knows a client added a moment ago, even with the configuration cached", async () => {
    await call("+14165550123", ORG_NUMBER);
    await createClient(db.sql, orgId, "New Client", "416 555 0123");
    const vars = await call("+14165550123", ORG_NUMBER);
    expect(vars.customer_name).toBe("New Client");
  });
});

describe("configuration cache", () => {
  it("reads the configuration once for many simultaneous calls", async () => {
    const fresh = makeHandler();
    await Promise.all(Array.from({ length: 50 }, () => call(JANE, ORG_NUMBER, fresh)));
    const stats = fresh.configCache.stats();
    expect(stats.loads).toBe(1);
    expect(stats.hits + stats.misses).toBe(50);
  });

  it("keeps answering with the cached configuration when the database goes away", async () => {
    let clock = Date.parse("2026-11-23T20:00:00Z");
    const sql = createSql(db.url, { max: 1 });
    const fragile = createTelnyxWebhookHandler({
      sql,
      publicKey: importTelnyxPublicKey(keys.publicKey),
      deadlineMs: 2500,
      configCacheTtlMs: 1000,
      logger: createLogger({}, { sink: () => {} }),
      now: () => new Date(clock),
    });
    expect((await call(JANE, ORG_NUMBER, fragile)).company_name).toBe("Pinecrest");
    await sql.end();
    clock += 5000;
    await new Promise((r) => setTimeout(r, 1100)); // let the real TTL pass
    const vars = await call(JANE, ORG_NUMBER, fragile);
    expect(vars).toMatchObject({ company_name: "Pinecrest", lookup_status: "error", customer_name: "" });
    expect(fragile.configCache.stats().staleServed).toBe(1);
  });
});

describe("webhook log", () => {
  it("writes one row per answer after responding, with the phone numbers masked", async () => {
    await call(JANE, ORG_NUMBER);
    await settleBackground();
    const rows = await db.sql`
      select caller_masked, called_masked, outcome, status_code, org_id from public.webhook_logs
      order by id desc limit 1`;
    expect(rows[0]).toMatchObject({
      caller_masked: "+*********99",
      called_masked: "+*********00",
      outcome: "found",
      status_code: 200,
      org_id: orgId,
    });
    const all = await db.sql`select count(*)::int as n from public.webhook_logs where caller_masked like '%0199%'`;
    expect(all[0].n).toBe(0);
    expect(logLines.some((l) => l.includes("4165550199"))).toBe(false);
  });

  it("writes nothing for a request whose signature fails, so forgers cannot make us write", async () => {
    await settleBackground();
    const [before] = await db.sql`select count(*)::int as n from public.webhook_logs`;
    const body = initializationEvent(JANE, ORG_NUMBER);
    const res = await handler(new Request("http://localhost/telnyx-webhook", { method: "POST", body }));
    expect(res.status).toBe(401);
    await settleBackground();
    const [after] = await db.sql`select count(*)::int as n from public.webhook_logs`;
    expect(after.n).toBe(before.n);
    expect(logLines.some((l) => l.includes('"code":"SIGNATURE_MISSING"'))).toBe(true);
  });
});
