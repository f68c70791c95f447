// The template-builder function under real Deno, over HTTP, with a real Postgres and a local Graph API
// stand-in: the guided flow with no LLM key reaches a final payload, `validate` answers the corpus,
// the final payload is submitted to Meta, and signed status webhooks move it through review.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signMeta } from "../../functions/_shared/signatures/meta.ts";
import { validateTemplate } from "../../functions/_shared/templates/validator.ts";
import { startGraphServer, type GraphServer } from "../../scripts/stand-ins/whatsapp-graph.mjs";
import { createTestDatabase, type TestDatabase } from "../support/database.ts";
import { CORPUS } from "../unit/templates/corpus.ts";
import { startFunctionsServer, type FunctionsServer } from "./support/server.ts";

const DEMO_ORG = "00000000-0000-4000-8000-000000000001";
const SERVICE_KEY = "e2e-service-role-key-0123456789";
const APP_SECRET = "e2e-meta-app-secret";

let db: TestDatabase;
let graph: GraphServer;
let server: FunctionsServer;
const url = (route: string) => `${server.functionUrl("template-builder")}/${route}`;

async function chat(sessionId: string, message: string) {
  const res = await fetch(url("chat"), {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ session_id: sessionId, message }),
  });
  return { status: res.status, body: await res.json() };
}

async function newSession(): Promise<string> {
  const res = await fetch(url("session/new"));
  expect(res.status).toBe(201);
  return (await res.json()).session_id;
}

beforeAll(async () => {
  db = await createTestDatabase();
  await db.sql`insert into public.orgs (id, name) values (${DEMO_ORG}, 'Demo')`;
  graph = await startGraphServer();
  await db.sql`insert into public.whatsapp_template_accounts (org_id, waba_id, access_token)
               values (${DEMO_ORG}, ${graph.wabaId}, ${graph.token})`;
  server = await startFunctionsServer({
    env: {
      DATABASE_URL: db.url,
      SUPABASE_SERVICE_ROLE_KEY: SERVICE_KEY,
      WHATSAPP_GRAPH_URL: graph.url,
      WHATSAPP_APP_SECRET: APP_SECRET,
      WHATSAPP_VERIFY_TOKEN: "e2e-verify-token",
      TELNYX_PUBLIC_KEY: "",
    },
  });
}, 90_000);

afterAll(async () => {
  await server?.stop();
  await graph?.close();
  await db?.drop();
});

describe("the guided flow without an LLM key", () => {
  let sessionId: string;
  let final: Record<string, any>;

  it("reaches a final UTILITY reminder with two variables and a quick reply in seven turns", async () => {
    sessionId = await newSession();
    const turns = [
      "A reminder for tomorrow's appointment with the customer's name and time, and a button to reschedule",
      "utility, en_US",
      "yes",
      "Hi {{customer_name}}, this is a reminder of your appointment tomorrow at {{time}}. Reply below if you need to change it.",
      "Maria | 10:30 AM",
      "yes",
      "confirm",
    ];
    const states: string[] = [];
    let last: Record<string, any> = {};
    for (const message of turns) {
      const r = await chat(sessionId, message);
      expect(r.status).toBe(200);
      states.push(r.body.state);
      last = r.body;
    }
    expect(states).toEqual(["gathering", "gathering", "gathering", "gathering", "gathering", "review", "final"]);
    expect(last.missing).toEqual([]);
    expect(last.payload).toEqual({
      name: "appointment_reminder",
      language: "en_US",
      category: "UTILITY",
      components: [
        {
          type: "BODY",
          text: "Hi {{1}}, this is a reminder of your appointment tomorrow at {{2}}. Reply below if you need to change it.",
          example: { body_text: [["Maria", "10:30 AM"]] },
        },
        { type: "BUTTONS", buttons: [{ type: "QUICK_REPLY", text: "Reschedule" }] },
      ],
    });
    expect(validateTemplate(last.payload).valid).toBe(true);
    final = last;
  });

  it("reports what is missing as field names while gathering", async () => {
    const id = await newSession();
    const r = await chat(id, "utility, en_US");
    expect(r.body.state).toBe("gathering");
    expect(r.body.missing).toEqual(["name", "body", "wants_header", "wants_footer", "wants_buttons"]);
    expect(r.body.payload).toBeNull();
  });

  it("goes straight to review when one message gives everything", async () => {
    const id = await newSession();
    const r = await chat(id, [
      "category: utility",
      "language: en_US",
      "name: visit_reminder",
      "body: Hi {{1}}, your visit is tomorrow at {{2}}. Reply below to change it.",
      "examples: Maria | 10:30 AM",
      "buttons: quick reply Reschedule",
    ].join("\n"));
    expect(r.body.state).toBe("review");
    expect(r.body.reply).toMatch(/confirm/);
    expect(validateTemplate(r.body.payload).valid).toBe(true);
  });

  it("says why Meta would reject a body and asks for it again", async () => {
    const id = await newSession();
    const r = await chat(id, "category: utility\nlanguage: en_US\nname: x_reminder\nbody: Hello {{1}}\nexamples: Ann\nbuttons: no");
    expect(r.body.state).toBe("gathering");
    expect(r.body.missing).toEqual(["body"]);
    expect(r.body.validation.errors.map((e: { rule: string }) => e.rule)).toContain("PLACEHOLDER_AT_END");
    expect(r.body.reply).toMatch(/Meta would reject this/);
  });

  it("shows the history and current draft of a session", async () => {
    const res = await fetch(url(`session/${sessionId}`));
    const body = await res.json();
    expect(res.status).toBe(200);
    expect(body.state).toBe("final");
    expect(body.messages).toHaveLength(14);
    expect(body.payload).toEqual(final.payload);
  });

  it("keeps every draft version", async () => {
    const [{ n }] = await db.sql`select count(*)::int as n from public.template_drafts where session_id = ${sessionId}`;
    expect(n).toBeGreaterThanOrEqual(5);
  });

  it("refuses the debug view without the service role key", async () => {
    const res = await fetch(url(`session/${sessionId}/debug`), { headers: { authorization: "Bearer wrong-key-0123456789" } });
    expect(res.status).toBe(401);
    expect((await res.json()).error.code).toBe("UNAUTHORIZED");
  });

  it("shows operators the history, drafts, memory and last action", async () => {
    const res = await fetch(url(`session/${sessionId}/debug`), { headers: { authorization: `Bearer ${SERVICE_KEY}` } });
    const body = await res.json();
    expect(res.status).toBe(200);
    expect(body.session.mode).toBe("guided");
    expect(body.last_action).toBe("confirmed");
    expect(body.memory).toMatchObject({ category: "UTILITY", language: "en_US", wants_buttons: true, wants_header: false });
    expect(body.drafts.length).toBeGreaterThanOrEqual(5);
    expect(body.llm_calls).toEqual([]);
  });

  it("submits the final payload to Meta and stores its id and status", async () => {
    const res = await fetch(url(`session/${sessionId}/submit`), { method: "POST" });
    const body = await res.json();
    expect(res.status).toBe(201);
    expect(body.submission).toMatchObject({ status: "PENDING", meta_template_id: expect.stringMatching(/^[0-9]+$/) });
    const sent = graph.requests.at(-1)!;
    expect(sent.path).toBe(`/v21.0/${graph.wabaId}/message_templates`);
    expect(sent.headers.authorization).toBe(`Bearer ${graph.token}`);
    expect(sent.body).toEqual(final.payload);
  });

  it("sends one request per draft version however often submit is called", async () => {
    const before = graph.requests.length;
    const res = await fetch(url(`session/${sessionId}/submit`), { method: "POST" });
    expect(res.status).toBe(200);
    expect((await res.json()).duplicate).toBe(true);
    expect(graph.requests.length).toBe(before);
  });

  it("moves the submission to APPROVED on a signed status update", async () => {
    const [{ meta_template_id }] = await db.sql`select meta_template_id from public.template_submissions where session_id = ${sessionId}`;
    const body = JSON.stringify({
      object: "whatsapp_business_account",
      entry: [{
        id: graph.wabaId,
        time: 1700000000,
        changes: [{
          field: "message_template_status_update",
          value: { event: "APPROVED", message_template_id: Number(meta_template_id), message_template_name: "appointment_reminder", message_template_language: "en-US", reason: "NONE" },
        }],
      }],
    });
    const res = await fetch(url("webhook"), {
      method: "POST",
      headers: { "content-type": "application/json", "x-hub-signature-256": await signMeta(APP_SECRET, body) },
      body,
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ changes: 1, applied: 1, matched: 1 });
    const view = await (await fetch(url(`session/${sessionId}`))).json();
    expect(view.submissions[0].status).toBe("APPROVED");
  });

  it("refuses an unsigned status update and changes nothing", async () => {
    const body = JSON.stringify({ object: "whatsapp_business_account", entry: [{ id: graph.wabaId, changes: [{ field: "message_template_status_update", value: { event: "PAUSED", message_template_id: 1 } }] }] });
    const res = await fetch(url("webhook"), { method: "POST", headers: { "content-type": "application/json" }, body });
    expect(res.status).toBe(401);
    expect((await res.json()).error.code).toBe("SIGNATURE_MISSING");
    const [{ n }] = await db.sql`select count(*)::int as n from public.template_status_events where event = 'PAUSED'`;
    expect(n).toBe(0);
  });

  it("answers Meta's verification handshake", async () => {
    const res = await fetch(url("webhook?hub.mode=subscribe&hub.verify_token=e2e-verify-token&hub.challenge=1158201444"));
    expect(res.status).toBe(200);
    expect(await res.text()).toBe("1158201444");
  });
});

describe("validate", () => {
  it("returns the right rule codes for every case of the corpus", async () => {
    for (const c of CORPUS) {
      const res = await fetch(url("validate"), { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(c.payload) });
      const body = await res.json();
      expect(res.status, c.name).toBe(200);
      expect([...new Set(body.errors.map((e: { rule: string }) => e.rule))].sort(), c.name).toEqual([...c.errors].sort());
      expect(body.valid, c.name).toBe(c.errors.length === 0);
    }
  });

  it("answers 400 INVALID_JSON for a body that is not JSON", async () => {
    const res = await fetch(url("validate"), { method: "POST", headers: { "content-type": "application/json" }, body: "{nope" });
    expect(res.status).toBe(400);
    expect((await res.json()).error.code).toBe("INVALID_JSON");
  });
});

describe("health", () => {
  it("says the builder runs guided for the demo organisation", async () => {
    const res = await fetch(url("health"));
    expect(await res.json()).toMatchObject({ status: "ok", mode: "guided", auth: "demo-organisation" });
  });
});
