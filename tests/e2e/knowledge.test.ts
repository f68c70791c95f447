// The knowledge base end to end on the real Deno server: the web chat answers from the demo
// articles with a citation and says it does not know (offering a person) otherwise; the management
// API's documents, search and auth.
import { readFileSync } from "node:fs";
import { SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../support/database.ts";
import { startFunctionsServer, type FunctionsServer } from "./support/server.ts";

const ORG = "00000000-0000-4000-8000-000000000001";
const OTHER_ORG = "00000000-0000-4000-8000-00000000e001";
const SERVICE_KEY = "test-service-role-key-0123456789";
const JWT_SECRET = "test-jwt-secret-0123456789abcdef";
const SUPERVISOR = "00000000-0000-4000-8000-00000000a001";
const AGENT = "00000000-0000-4000-8000-00000000a002";
const OUTSIDER = "00000000-0000-4000-8000-00000000a003";

let db: TestDatabase;
let server: FunctionsServer;
const token = (sub: string, secret = JWT_SECRET) =>
  new SignJWT({ role: "authenticated" }).setProtectedHeader({ alg: "HS256" }).setSubject(sub)
    .setIssuedAt().setExpirationTime("5m").sign(new TextEncoder().encode(secret));

beforeAll(async () => {
  db = await createTestDatabase();
  await db.sql.unsafe(readFileSync("supabase/seed.sql", "utf8"));
  await db.sql.unsafe(`
    insert into public.orgs (id, name) values ('${OTHER_ORG}', 'Other Co');
    insert into auth.users (id, email) values ('${SUPERVISOR}', 's@example.com'), ('${AGENT}', 'a@example.com'), ('${OUTSIDER}', 'o@example.com');
    insert into public.org_members (org_id, user_id, role) values
      ('${ORG}', '${SUPERVISOR}', 'admin'), ('${ORG}', '${AGENT}', 'agent'), ('${OTHER_ORG}', '${OUTSIDER}', 'owner');`);
  server = await startFunctionsServer({
    env: { DATABASE_URL: db.url, SUPABASE_SERVICE_ROLE_KEY: SERVICE_KEY, SUPABASE_JWT_SECRET: JWT_SECRET, CHAT_RATE_LIMIT_IP_PER_MINUTE: "0" },
  });
}, 90_000);

afterAll(async () => {
  await server?.stop();
  await db?.drop();
});

async function chat(text: string) {
  const start = await fetch(`${server.url}/functions/v1/chat/sessions`, {
    method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ site_key: "pinecrest-demo" }),
  });
  expect(start.status).toBe(201);
  const session = await start.json();
  const res = await fetch(`${server.url}/functions/v1/chat/sessions/${session.session_id}/messages`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${session.session_token}` },
    body: JSON.stringify({ text }),
  });
  expect(res.status).toBe(200);
  return { session, reply: await res.json() };
}

const api = (path: string, init: RequestInit & { auth?: string } = {}) =>
  fetch(`${server.url}/functions/v1/knowledge/${path}`, {
    ...init,
    headers: { ...(init.auth ? { authorization: `Bearer ${init.auth}` } : {}), ...(init.headers as Record<string, string> ?? {}) },
  });

describe("the web chat with the demo knowledge base", () => {
  it("answers a question the articles cover, citing the article", async () => {
    const { session, reply } = await chat("Do you service Mississauga?");
    expect(reply.messages[0].body).toContain("Mississauga");
    expect(reply.messages[0].sources).toEqual([
      { document_id: "00000000-0000-4000-8000-000000000702", section_id: expect.any(String), title: "Service area", url: "https://pinecrest.example/service-area" },
    ]);
    const history = await (await fetch(`${server.url}/functions/v1/chat/sessions/${session.session_id}`, {
      headers: { authorization: `Bearer ${session.session_token}` },
    })).json();
    expect(history.messages.at(-1).sources[0].document_id).toBe("00000000-0000-4000-8000-000000000702");
  });

  it("says it does not know and offers a person when the articles do not cover the question", async () => {
    const { reply } = await chat("Can you fix my car?");
    expect(reply.messages[0].sources).toBeUndefined();
    expect(reply.messages[0].buttons.map((b: { id: string }) => b.id)).toEqual(["AGENT_MODE", "SCHEDULE_CALLBACK"]);
    expect(reply.messages[0].body).not.toMatch(/car/i);
  });
});

describe("knowledge API", () => {
  it("refuses a request without a token with UNAUTHORIZED", async () => {
    const res = await api("documents");
    expect(res.status).toBe(401);
    expect((await res.json()).error.code).toBe("UNAUTHORIZED");
  });

  it("refuses a JWT signed with another secret with UNAUTHORIZED", async () => {
    const res = await api("documents", { auth: await token(SUPERVISOR, "another-secret-0123456789abcdef") });
    expect((await res.json()).error.code).toBe("UNAUTHORIZED");
  });

  it("refuses an agent who is not a supervisor with FORBIDDEN", async () => {
    const res = await api("documents", { auth: await token(AGENT) });
    expect(res.status).toBe(403);
    expect((await res.json()).error.code).toBe("FORBIDDEN");
  });

  it("lists the organisation's documents to its supervisor", async () => {
    const res = await api("documents", { auth: await token(SUPERVISOR) });
    expect(res.status).toBe(200);
    const body = await res.json();
    expect(body.documents.length).toBe(7);
    expect(body.documents.every((d: { org_id: string }) => d.org_id === ORG)).toBe(true);
  });

  it("takes a Markdown upload, sections it by heading, and re-sections only what changed", async () => {
    const auth = await token(SUPERVISOR);
    const form = new FormData();
    form.append("file", new Blob(["# Gift cards\nWe sell gift cards in any amount.\n\n## Expiry\nGift cards never expire.\n"], { type: "text/markdown" }), "gift-cards.md");
    form.append("url", "https://pinecrest.example/gift-cards");
    const created = await api("documents", { method: "POST", auth, body: form });
    expect(created.status).toBe(201);
    const { document, sections } = await created.json();
    expect(document.title).toBe("Gift cards");
    expect(sections).toBe(2);

    const detail = await (await api(`documents/${document.id}`, { auth })).json();
    expect(detail.sections.map((s: { heading: string }) => s.heading)).toEqual(["Gift cards", "Expiry"]);

    const same = { title: "Gift cards", body: "# Gift cards\nWe sell gift cards in any amount.\n\n## Expiry\nGift cards never expire.\n", url: "https://pinecrest.example/gift-cards" };
    const unchanged = await api(`documents/${document.id}`, { method: "PUT", auth, headers: { "content-type": "application/json" }, body: JSON.stringify(same) });
    expect((await unchanged.json()).changed).toBe(false);
    const edited = await api(`documents/${document.id}`, {
      method: "PUT", auth, headers: { "content-type": "application/json" },
      body: JSON.stringify({ ...same, body: same.body.replace("never expire", "expire after five years") }),
    });
    expect((await edited.json()).changed).toBe(true);
    const after = await (await api(`documents/${document.id}`, { auth })).json();
    expect(after.sections[0].id).toBe(detail.sections[0].id);
    expect(after.sections[1].id).not.toBe(detail.sections[1].id);

    const search = await (await api(`search?q=${encodeURIComponent("do gift cards expire?")}`, { auth })).json();
    expect(search.confident).toBe(true);
    expect(search.hits[0].section_id).toBe(after.sections[1].id);

    expect((await api(`documents/${document.id}`, { method: "DELETE", auth })).status).toBe(204);
    expect((await api(`documents/${document.id}`, { auth })).status).toBe(404);
  });

  it("hides one organisation's documents from another's supervisor", async () => {
    const res = await api("documents/00000000-0000-4000-8000-000000000702", { auth: await token(OUTSIDER) });
    expect(res.status).toBe(404);
    expect((await res.json()).error.code).toBe("NOT_FOUND");
  });

  it("shows the service role what the bot would retrieve, with scores and the gate", async () => {
    const yes = await (await api(`search?org_id=${ORG}&q=${encodeURIComponent("Do you service Mississauga?")}`, { auth: SERVICE_KEY })).json();
    expect(yes).toMatchObject({ mode: "full_text", confident: true });
    expect(yes.hits[0].text_score).toBeGreaterThanOrEqual(yes.thresholds.min_text_score);
    const no = await (await api(`search?org_id=${ORG}&q=${encodeURIComponent("Can you fix my car?")}`, { auth: SERVICE_KEY })).json();
    expect(no.confident).toBe(false);
  });

  it("refuses a document without a title with BAD_REQUEST and other media types with UNSUPPORTED_MEDIA_TYPE", async () => {
    const auth = await token(SUPERVISOR);
    const bad = await api("documents", { method: "POST", auth, headers: { "content-type": "application/json" }, body: JSON.stringify({ body: "x" }) });
    expect(bad.status).toBe(400);
    expect((await bad.json()).error.code).toBe("BAD_REQUEST");
    const xml = await api("documents", { method: "POST", auth, headers: { "content-type": "application/xml" }, body: "<a/>" });
    expect(xml.status).toBe(415);
    expect((await xml.json()).error.code).toBe("UNSUPPORTED_MEDIA_TYPE");
  });

  it("lets only the service role process embeddings", async () => {
    const res = await api("process", { method: "POST", auth: await token(SUPERVISOR) });
    expect(res.status).toBe(403);
    const ok = await api("process", { method: "POST", auth: SERVICE_KEY });
    expect(await ok.json()).toMatchObject({ embedded: 0, embeddings: "off" });
  });
});
