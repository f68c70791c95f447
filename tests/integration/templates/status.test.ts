// Template status updates: applyTemplateStatusUpdate (what the whatsapp-webhook function calls for
// message_template_status_update changes) and the builder's own signed webhook route.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signMeta } from "../../../functions/_shared/signatures/meta.ts";
import { applyTemplateStatusUpdate, templateStatusChanges } from "../../../functions/_shared/templates/status.ts";
import { createTestDatabase, type TestDatabase } from "../../support/database.ts";
import buildWhatsAppWebhook from "../../../functions/whatsapp-webhook/handler.ts";
import { builder, call, type Handler } from "./support.ts";

const ORG = "e0000000-0000-4000-8000-000000000001";
const WABA = "102290129340398";
const SECRET = "meta-app-secret-for-tests";
let db: TestDatabase;
let handler: Handler;

function envelope(value: Record<string, unknown>, wabaId = WABA) {
  return JSON.stringify({ object: "whatsapp_business_account", entry: [{ id: wabaId, time: 1751247548, changes: [{ field: "message_template_status_update", value }] }] });
}

beforeAll(async () => {
  db = await createTestDatabase();
  await db.sql`insert into public.orgs (id, name) values (${ORG}, 'Org')`;
  const [s] = await db.sql`insert into public.template_sessions (org_id, mode) values (${ORG}, 'guided') returning id`;
  await db.sql`insert into public.template_submissions (org_id, session_id, draft_version, waba_id, name, language, category, payload, status, meta_template_id)
               values (${ORG}, ${s.id}, 1, ${WABA}, 'order_update', 'en_US', 'UTILITY', '{}', 'PENDING', '1689556908129832')`;
  handler = builder({ DATABASE_URL: db.url, WHATSAPP_APP_SECRET: `old-secret-being-rotated,${SECRET}` });
});

afterAll(async () => {
  await db?.drop();
});

const statusOf = async () => (await db.sql`select status, rejection_reason from public.template_submissions where meta_template_id = '1689556908129832'`)[0];

describe("applyTemplateStatusUpdate", () => {
  it("moves the submission to REJECTED with Meta's reason", async () => {
    const r = await applyTemplateStatusUpdate(db.sql, {
      event: "REJECTED", message_template_id: 1689556908129832, message_template_name: "order_update",
      message_template_language: "en-US", reason: "INVALID_FORMAT",
      rejection_info: { reason: "Your template has parameters placed next to each other", recommendation: "Add words between them" },
    }, { wabaId: WABA });
    expect(r).toMatchObject({ matched: true, duplicate: false, status: "REJECTED", org_id: ORG });
    expect(await statusOf()).toEqual({ status: "REJECTED", rejection_reason: "INVALID_FORMAT" });
  });

  it("refuses a value without a template id with INVALID_EVENT", async () => {
    await expect(applyTemplateStatusUpdate(db.sql, { event: "APPROVED" })).rejects.toMatchObject({ code: "INVALID_EVENT" });
  });

  it("reads only message_template_status_update changes from an envelope", () => {
    const body = JSON.parse(envelope({ event: "APPROVED", message_template_id: 1 }));
    body.entry[0].changes.push({ field: "messages", value: {} });
    expect(templateStatusChanges(body)).toEqual([{ wabaId: WABA, value: { event: "APPROVED", message_template_id: 1 } }]);
  });
});

describe("POST template-builder/webhook", () => {
  it("applies a signed PAUSED event", async () => {
    const body = envelope({ event: "PAUSED", message_template_id: 1689556908129832, reason: "NONE", other_info: { title: "FIRST_PAUSE", description: "paused for 3 hours" } });
    const res = await call(handler, "POST", "webhook", body, { "x-hub-signature-256": await signMeta(SECRET, body) });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ changes: 1, applied: 1, matched: 1 });
    expect((await statusOf()).status).toBe("PAUSED");
  });

  it("treats a redelivered event as a duplicate", async () => {
    const body = envelope({ event: "PAUSED", message_template_id: 1689556908129832, reason: "NONE", other_info: { title: "FIRST_PAUSE", description: "paused for 3 hours" } });
    const res = await call(handler, "POST", "webhook", body, { "x-hub-signature-256": await signMeta(SECRET, body) });
    expect(res.body).toMatchObject({ changes: 1, applied: 0, matched: 1 });
  });

  it("refuses a body signed with another secret with 401 SIGNATURE_INVALID", async () => {
    const body = envelope({ event: "APPROVED", message_template_id: 1689556908129832, reason: "NONE" });
    const res = await call(handler, "POST", "webhook", body, { "x-hub-signature-256": await signMeta("not-the-secret", body) });
    expect(res.status).toBe(401);
    expect(res.body.error.code).toBe("SIGNATURE_INVALID");
    expect((await statusOf()).status).toBe("PAUSED");
  });

  it("refuses an unsigned body with 401 SIGNATURE_MISSING", async () => {
    const body = envelope({ event: "APPROVED", message_template_id: 1689556908129832, reason: "NONE" });
    const res = await call(handler, "POST", "webhook", body);
    expect(res.status).toBe(401);
    expect(res.body.error.code).toBe("SIGNATURE_MISSING");
  });

  it("acknowledges a malformed change without applying it (Meta would retry it for days)", async () => {
    const body = envelope({ event: "APPROVED" });
    const res = await call(handler, "POST", "webhook", body, { "x-hub-signature-256": await signMeta(SECRET, body) });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ changes: 1, applied: 0, skipped: 1 });
  });

  it("ignores an event from another WABA", async () => {
    const body = envelope({ event: "APPROVED", message_template_id: 1689556908129832, reason: "NONE" }, "999999999");
    const res = await call(handler, "POST", "webhook", body, { "x-hub-signature-256": await signMeta(SECRET, body) });
    expect(res.body).toMatchObject({ matched: 0 });
    expect((await statusOf()).status).toBe("PAUSED");
  });

  it("answers 503 NOT_CONFIGURED without an app secret", async () => {
    const open = builder({ DATABASE_URL: db.url });
    const res = await call(open, "POST", "webhook", envelope({ event: "APPROVED", message_template_id: 1 }));
    expect(res.status).toBe(503);
    expect(res.body.error.code).toBe("NOT_CONFIGURED");
  });
});

describe("whatsapp-webhook with the template module", () => {
  it("moves the submission when Meta's status update arrives at whatsapp-webhook", async () => {
    const webhook = buildWhatsAppWebhook({ DATABASE_URL: db.url, WHATSAPP_APP_SECRET: SECRET, LOG_LEVEL: "error", METRICS_FLUSH_INTERVAL_MS: "0" });
    const body = envelope({ event: "APPROVED", message_template_id: 1689556908129832, reason: "NONE" });
    const res = await webhook(new Request("http://localhost/functions/v1/whatsapp-webhook", {
      method: "POST",
      headers: { "content-type": "application/json", "x-hub-signature-256": await signMeta(SECRET, body) },
      body,
    }));
    expect(res.status).toBe(200);
    expect((await statusOf()).status).toBe("APPROVED");
  });
});
