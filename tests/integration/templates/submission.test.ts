// Submission to Meta against the local Graph API stand-in: success, a duplicate name (100/2388024),
// an invalid parameter, a refused token and an unavailable Graph API, each with its error code, the
// outcome stored, and a failed submission that can be retried.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startGraphServer, type GraphServer } from "../../../scripts/stand-ins/whatsapp-graph.mjs";
import { createTestDatabase, type TestDatabase } from "../../support/database.ts";
import { builder, call, finalSession, type Handler } from "./support.ts";

const DEMO_ORG = "00000000-0000-4000-8000-000000000001";
let db: TestDatabase;
let graph: GraphServer;
let handler: Handler;

beforeAll(async () => {
  db = await createTestDatabase();
  await db.sql`insert into public.orgs (id, name) values (${DEMO_ORG}, 'Demo')`;
  graph = await startGraphServer();
  await db.sql`insert into public.whatsapp_template_accounts (org_id, waba_id, access_token) values (${DEMO_ORG}, ${graph.wabaId}, ${graph.token})`;
  handler = builder({ DATABASE_URL: db.url, WHATSAPP_GRAPH_URL: graph.url, TEMPLATE_SUBMIT_TIMEOUT_MS: "2000" });
});

afterAll(async () => {
  await graph?.close();
  await db?.drop();
});

async function submissionOf(sessionId: string) {
  const [row] = await db.sql`select status, meta_template_id, error from public.template_submissions where session_id = ${sessionId}`;
  return row;
}

describe("POST session/{id}/submit", () => {
  it("refuses with 409 TEMPLATE_NOT_READY while the template is not final", async () => {
    const id = (await call(handler, "GET", "session/new")).body.session_id;
    const res = await call(handler, "POST", `session/${id}/submit`);
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe("TEMPLATE_NOT_READY");
  });

  it("stores Meta's template id and PENDING status on success", async () => {
    const id = await finalSession(handler, "visit_reminder");
    const res = await call(handler, "POST", `session/${id}/submit`);
    expect(res.status).toBe(201);
    expect(res.body.submission).toMatchObject({ status: "PENDING", meta_template_id: expect.stringMatching(/^[0-9]+$/), meta_category: "UTILITY" });
    expect(await submissionOf(id)).toMatchObject({ status: "PENDING", error: null });
  });

  it("answers 409 META_DUPLICATE_NAME when Meta has the name in that language (100/2388024)", async () => {
    const id = await finalSession(handler, "visit_reminder");
    const res = await call(handler, "POST", `session/${id}/submit`);
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe("META_DUPLICATE_NAME");
    expect(res.body.error.details).toMatchObject({ meta_code: 100, meta_subcode: 2388024 });
    expect(await submissionOf(id)).toMatchObject({ status: "FAILED", error: { code: "META_DUPLICATE_NAME", meta_subcode: 2388024 } });
  });

  it("answers 422 META_REJECTED for an invalid parameter and names Meta's reason", async () => {
    const id = await finalSession(handler, "visit_reminder_two");
    graph.failNext({
      status: 400,
      body: { error: { message: "Invalid parameter", type: "OAuthException", code: 100, error_subcode: 2388293, error_user_title: "Parameters words ratio exceeds limit", error_user_msg: "This template has too many variables for its length." } },
    });
    const res = await call(handler, "POST", `session/${id}/submit`);
    expect(res.status).toBe(422);
    expect(res.body.error.code).toBe("META_REJECTED");
    expect(res.body.error.details).toMatchObject({ meta_code: 100, meta_subcode: 2388293, meaning: "too many variables for the length of the text" });
  });

  it("lets a failed submission be sent again, and it succeeds", async () => {
    const [{ session_id }] = await db.sql`select session_id from public.template_submissions where name = 'visit_reminder_two'`;
    const res = await call(handler, "POST", `session/${session_id}/submit`);
    expect(res.status).toBe(201);
    expect(await submissionOf(session_id)).toMatchObject({ status: "PENDING" });
  });

  it("answers 502 META_AUTH_FAILED when Meta refuses the organisation's token (190)", async () => {
    const id = await finalSession(handler, "visit_reminder_three");
    graph.failNext({ status: 401, body: { error: { message: "Invalid OAuth access token", type: "OAuthException", code: 190 } } });
    const res = await call(handler, "POST", `session/${id}/submit`);
    expect(res.status).toBe(502);
    expect(res.body.error.code).toBe("META_AUTH_FAILED");
    expect(JSON.stringify(res.body)).not.toContain(graph.token);
  });

  it("answers 503 UPSTREAM_UNAVAILABLE with Retry-After when the Graph API fails", async () => {
    const id = await finalSession(handler, "visit_reminder_four");
    graph.failNext({ status: 500 });
    const res = await call(handler, "POST", `session/${id}/submit`);
    expect(res.status).toBe(503);
    expect(res.body.error.code).toBe("UPSTREAM_UNAVAILABLE");
    expect(res.headers.get("retry-after")).toBeTruthy();
    expect(await submissionOf(id)).toMatchObject({ status: "FAILED" });
  });

  it("answers 409 WABA_NOT_CONFIGURED for an organisation without an account", async () => {
    const id = await finalSession(handler, "visit_reminder_five");
    await db.sql`delete from public.whatsapp_template_accounts where org_id = ${DEMO_ORG}`;
    try {
      const res = await call(handler, "POST", `session/${id}/submit`);
      expect(res.status).toBe(409);
      expect(res.body.error.code).toBe("WABA_NOT_CONFIGURED");
    } finally {
      await db.sql`insert into public.whatsapp_template_accounts (org_id, waba_id, access_token) values (${DEMO_ORG}, ${graph.wabaId}, ${graph.token})`;
    }
  });
});
