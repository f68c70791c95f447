// Zoho OAuth on a real Postgres against the local Zoho stand-in: tokens sealed at rest, one refresh
// when many isolates meet an expired token at once, refresh failures (including Zoho's HTTP 200
// {"error": ...}), the 400 invalid-token answer, and Zoho's refresh quota.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startZohoStandIn, type ZohoStandIn } from "../../../scripts/stand-ins/zoho.mjs";
import { createLogger } from "../../../functions/_shared/log/logger.ts";
import { parseZohoConfig } from "../../../functions/_shared/zoho/config.ts";
import { createZohoClient, isInvalidTokenResponse, ZohoAuthError } from "../../../functions/_shared/zoho/oauth.ts";
import { createTestDatabase, type TestDatabase } from "../../support/database.ts";
import { createChatOrg } from "../../support/chat.ts";
import { DESK_CLIENT, DESK_ORG, zohoEnv } from "../../support/zoho.ts";

let db: TestDatabase;
let zoho: ZohoStandIn;
let env: Record<string, string>;
const logs: string[] = [];
const logger = createLogger({}, { level: "debug", sink: (line) => logs.push(line) });

beforeAll(async () => {
  db = await createTestDatabase();
  zoho = await startZohoStandIn({ deskOrgId: DESK_ORG });
  env = zohoEnv(zoho);
}, 60_000);

afterAll(async () => {
  await zoho?.close();
  await db?.drop();
});

beforeEach(() => {
  zoho.reset();
  zoho.addClient(DESK_CLIENT);
  logs.length = 0;
});

/** One isolate: its own client (its own cache), the same database. */
function isolate(extra: Record<string, string> = {}) {
  return createZohoClient({ sql: db.sql, config: parseZohoConfig({ ...env, ...extra }), logger, refreshWaitMs: 10_000 });
}

const search = (phone: string) => (_t: string, s: { deskApiUrl: string; deskOrgId?: string }) => ({
  url: `${s.deskApiUrl}/api/v1/contacts/search?phone=${encodeURIComponent(phone)}`,
  init: { method: "GET", headers: { orgId: s.deskOrgId ?? "" } },
});

describe("tokens", () => {
  it("refreshes on first use and stores the access token sealed, never in clear", async () => {
    const { orgId } = await createChatOrg(db.sql);
    const res = await isolate().request(orgId, "desk", search("+14165550199"));
    expect(res.status).toBe(204);
    expect(zoho.state.refreshes).toHaveLength(1);
    const [row] = await db.sql`select * from public.zoho_credentials where org_id = ${orgId} and product = 'desk'`;
    expect(row.access_token_sealed).toMatch(/^v1\./);
    expect(row.token_version).toBe(1);
    const dump = JSON.stringify(await db.sql`select * from public.zoho_credentials`);
    expect(dump).not.toContain("1000.standin.");
    expect(logs.join("\n")).not.toContain("1000.standin.");
    expect(logs.join("\n")).not.toContain(DESK_CLIENT.refreshToken);
  });

  it("refuses a clear-text token in the table", async () => {
    const { orgId } = await createChatOrg(db.sql);
    await expect(db.sql`insert into public.zoho_credentials (org_id, product, access_token_sealed) values (${orgId}, 'desk', '1000.abc.def')`)
      .rejects.toMatchObject({ code: "23514" });
  });

  it("reuses the stored token in a new isolate without refreshing", async () => {
    const { orgId } = await createChatOrg(db.sql);
    await isolate().request(orgId, "desk", search("+14165550101"));
    await isolate().request(orgId, "desk", search("+14165550102"));
    expect(zoho.state.refreshes).toHaveLength(1);
  });

  it("refreshes once when 20 isolates meet an expired token at the same time", async () => {
    const { orgId } = await createChatOrg(db.sql);
    await isolate().request(orgId, "desk", search("+14165550103"));
    zoho.expireAll();
    zoho.setRefreshDelay(300); // a slow accounts server: every isolate arrives while the refresh runs
    zoho.state.refreshes.length = 0;
    const results = await Promise.all(Array.from({ length: 20 }, () => isolate().request(orgId, "desk", search("+14165550104"))));
    expect(results.map((r) => r.status)).toEqual(Array(20).fill(204));
    expect(zoho.state.refreshes).toHaveLength(1);
    const [row] = await db.sql`select token_version, refresh_lease from public.zoho_credentials where org_id = ${orgId} and product = 'desk'`;
    expect(row).toMatchObject({ token_version: 2, refresh_lease: null });
  });

  it("refreshes on a 400 with Zoho's invalid-token body", async () => {
    const { orgId } = await createChatOrg(db.sql);
    const client = isolate();
    await client.request(orgId, "desk", search("+14165550105"));
    zoho.expireAll();
    zoho.setInvalidTokenStatus(400);
    const res = await client.request(orgId, "desk", search("+14165550105"));
    expect(res.status).toBe(204);
    expect(zoho.state.refreshes).toHaveLength(2);
  });

  it("treats a refresh answered 200 with an error as a failure, and tells waiters instead of retrying", async () => {
    const { orgId } = await createChatOrg(db.sql);
    zoho.failRefresh("invalid_code");
    await expect(isolate().request(orgId, "desk", search("+14165550106"))).rejects.toMatchObject({ code: "refresh_refused: invalid_code" });
    await expect(isolate().request(orgId, "desk", search("+14165550106"))).rejects.toBeInstanceOf(ZohoAuthError);
    expect(zoho.state.refreshAttempts).toBe(1);
    const [row] = await db.sql`select last_error from public.zoho_credentials where org_id = ${orgId} and product = 'desk'`;
    expect(row.last_error).toBe("refresh_refused: invalid_code");
  });

  it("stops refreshing at Zoho's quota of 10 per 10 minutes", async () => {
    const { orgId } = await createChatOrg(db.sql);
    await db.sql`insert into public.zoho_credentials (org_id, product, refresh_window_start, refresh_count)
                 values (${orgId}, 'desk', now() - interval '1 minute', 10)`;
    await expect(isolate().request(orgId, "desk", search("+14165550107"))).rejects.toMatchObject({ code: "refresh_quota_reached" });
    expect(zoho.state.refreshAttempts).toBe(0);
  });

  it("uses an organisation's own sealed client and refresh token over the environment's", async () => {
    const { orgId } = await createChatOrg(db.sql);
    const own = { clientId: "1000.OWN", clientSecret: "own-secret", refreshToken: "1000.own.refresh" };
    zoho.addClient(own);
    await isolate().storeCredentials(orgId, "desk", own.clientId, own.clientSecret, own.refreshToken);
    await isolate().request(orgId, "desk", search("+14165550108"));
    expect(zoho.state.refreshes.map((r) => r.clientId)).toEqual(["1000.OWN"]);
    const [row] = await db.sql`select client_secret_sealed, refresh_token_sealed from public.zoho_credentials where org_id = ${orgId} and product = 'desk'`;
    expect(JSON.stringify(row)).not.toContain("own-secret");
  });
});

describe("invalid-token answers", () => {
  it("recognises Desk's and SalesIQ's invalid-token bodies and nothing else", () => {
    expect(isInvalidTokenResponse({ status: 401, text: "" })).toBe(true);
    expect(isInvalidTokenResponse({ status: 400, text: '{"errorCode":"INVALID_OAUTH"}' })).toBe(true);
    expect(isInvalidTokenResponse({ status: 200, text: '{"error":{"code":1007,"message":"Invalid OAuth token"}}' })).toBe(true);
    expect(isInvalidTokenResponse({ status: 400, text: '{"errorCode":"UNPROCESSABLE_ENTITY"}' })).toBe(false);
    expect(isInvalidTokenResponse({ status: 200, text: '{"data":{}}' })).toBe(false);
  });
});
