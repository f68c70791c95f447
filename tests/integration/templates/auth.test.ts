// Who may use the builder: with SUPABASE_JWT_SECRET set, a verified Supabase JWT of a member names
// the organisation; sessions of another organisation do not exist for the caller. Without the
// secret, the demo organisation, and never on a hosted project.
import { SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../../support/database.ts";
import { builder, call, type Handler } from "./support.ts";

const SECRET = "super-secret-jwt-token-with-at-least-32-characters-long";
const ORG_A = "d0000000-0000-4000-8000-000000000001";
const ORG_B = "d0000000-0000-4000-8000-000000000002";
const ANA = "d0000000-0000-4000-8000-0000000000a1";
const BEN = "d0000000-0000-4000-8000-0000000000b1";
let db: TestDatabase;
let handler: Handler;

async function jwt(claims: Record<string, unknown>, expiresIn = "1h", secret = SECRET): Promise<string> {
  return await new SignJWT(claims).setProtectedHeader({ alg: "HS256" }).setIssuedAt().setExpirationTime(expiresIn)
    .sign(new TextEncoder().encode(secret));
}
const as = async (sub: string) => ({ authorization: `Bearer ${await jwt({ sub, role: "authenticated" })}` });

beforeAll(async () => {
  db = await createTestDatabase();
  await db.sql`insert into auth.users (id, email) values (${ANA}, 'ana@example.com'), (${BEN}, 'ben@example.com')`;
  await db.sql`insert into public.orgs (id, name) values (${ORG_A}, 'A'), (${ORG_B}, 'B')`;
  await db.sql`insert into public.org_members (org_id, user_id) values (${ORG_A}, ${ANA}), (${ORG_B}, ${BEN})`;
  handler = builder({ DATABASE_URL: db.url, SUPABASE_JWT_SECRET: SECRET });
});

afterAll(async () => {
  await db?.drop();
});

describe("template-builder callers", () => {
  it("refuses a request without a token with 401 UNAUTHORIZED", async () => {
    const res = await call(handler, "GET", "session/new");
    expect(res.status).toBe(401);
    expect(res.body.error.code).toBe("UNAUTHORIZED");
  });

  it("refuses a token signed with another secret", async () => {
    const token = await jwt({ sub: ANA, role: "authenticated" }, "1h", "another-secret-that-is-also-at-least-32-chars");
    const res = await call(handler, "GET", "session/new", undefined, { authorization: `Bearer ${token}` });
    expect(res.status).toBe(401);
  });

  it("refuses an expired token", async () => {
    const token = await jwt({ sub: ANA, role: "authenticated" }, "-1m");
    const res = await call(handler, "GET", "session/new", undefined, { authorization: `Bearer ${token}` });
    expect(res.status).toBe(401);
    expect(res.body.error.code).toBe("UNAUTHORIZED");
  });

  it("creates a member's session in their organisation", async () => {
    const res = await call(handler, "GET", "session/new", undefined, await as(ANA));
    expect(res.status).toBe(201);
    const [row] = await db.sql`select org_id from public.template_sessions where id = ${res.body.session_id}`;
    expect(row.org_id).toBe(ORG_A);
  });

  it("answers 404 for another organisation's session", async () => {
    const id = (await call(handler, "GET", "session/new", undefined, await as(ANA))).body.session_id;
    const res = await call(handler, "GET", `session/${id}`, undefined, await as(BEN));
    expect(res.status).toBe(404);
    const chat = await call(handler, "POST", "chat", { session_id: id, message: "hello" }, await as(BEN));
    expect(chat.status).toBe(404);
  });

  it("refuses a member who names an organisation they are not in", async () => {
    const res = await call(handler, "GET", "session/new", undefined, { ...(await as(ANA)), "x-org-id": ORG_B });
    expect(res.status).toBe(403);
    expect(res.body.error.code).toBe("FORBIDDEN");
  });

  it("lets a service-role token act for the organisation it names", async () => {
    const token = await jwt({ role: "service_role" });
    const res = await call(handler, "GET", "session/new", undefined, { authorization: `Bearer ${token}`, "x-org-id": ORG_B });
    expect(res.status).toBe(201);
    const missing = await call(handler, "GET", "session/new", undefined, { authorization: `Bearer ${token}` });
    expect(missing.status).toBe(400);
  });

  it("fails closed with 503 NOT_CONFIGURED on a hosted project without a JWT secret", async () => {
    const hosted = builder({ DATABASE_URL: db.url, SUPABASE_URL: "https://abcdefgh.supabase.co" });
    const res = await call(hosted, "GET", "health");
    expect(res.status).toBe(503);
    expect(res.body.error.code).toBe("NOT_CONFIGURED");
  });
});

describe("template-builder rate limit", () => {
  it("answers 429 RATE_LIMITED past the organisation's requests per minute, with Retry-After", async () => {
    // A fresh organisation: the suite's other requests counted against A and B in the shared store.
    const CAT = "d0000000-0000-4000-8000-0000000000c1";
    const ORG_C = "d0000000-0000-4000-8000-000000000003";
    await db.sql`insert into auth.users (id, email) values (${CAT}, 'cat@example.com')`;
    await db.sql`insert into public.orgs (id, name) values (${ORG_C}, 'C')`;
    await db.sql`insert into public.org_members (org_id, user_id) values (${ORG_C}, ${CAT})`;
    const limited = builder({ DATABASE_URL: db.url, SUPABASE_JWT_SECRET: SECRET, TEMPLATE_RATE_LIMIT_ORG_PER_MINUTE: "2", RATE_LIMIT_STORE: "postgres" });
    const headers = await as(CAT);
    expect((await call(limited, "GET", "session/new", undefined, headers)).status).toBe(201);
    expect((await call(limited, "GET", "session/new", undefined, headers)).status).toBe(201);
    const third = await call(limited, "GET", "session/new", undefined, headers);
    expect(third.status).toBe(429);
    expect(third.body.error.code).toBe("RATE_LIMITED");
    expect(Number(third.headers.get("retry-after"))).toBeGreaterThan(0);
  });
});
