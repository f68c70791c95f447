// POST /integrations/{id} in process against a real Postgres: signatures, replays, allow-lists,
// rate limits and input validation, each checked by status, code and the rows written.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import buildHandler from "../../../functions/integrations/handler.ts";
import { createLogger } from "../../../functions/_shared/log/logger.ts";
import { createTestDatabase, type TestDatabase } from "../../support/database.ts";
import { signStandardWebhook } from "../../../functions/_shared/signatures/index.ts";
import { closedPort, createIntegration, eventBody, type IntegrationFixture, signedHeaders, SW_SECRET, LEGACY_SECRET } from "./support.ts";

let db: TestDatabase;
const logLines: string[] = [];
const logger = createLogger({}, { sink: (line) => logLines.push(line) });

const BASE_ENV = {
  TRUSTED_IP_HEADER: "x-forwarded-for",
  METRICS_FLUSH_INTERVAL_MS: "0",
  INTEGRATION_CACHE_TTL_MS: "0",
};

function handlerWith(env: Record<string, string> = {}) {
  return buildHandler({ DATABASE_URL: db.url, ...BASE_ENV, ...env }, { sql: db.sql, logger });
}

const url = (id: string) => `http://localhost/integrations/${id}`;

async function post(h: (r: Request) => Promise<Response>, id: string, body: string, headers: Record<string, string>) {
  const res = await h(new Request(url(id), { method: "POST", body, headers }));
  const text = await res.text();
  return { res, status: res.status, json: text ? JSON.parse(text) : null };
}

async function rows(integrationId: string): Promise<number> {
  const [r] = await db.sql`select count(*)::int as n from public.integration_events where integration_id = ${integrationId}`;
  return r.n;
}

beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db?.drop();
});

describe("signed events", () => {
  let sw: IntegrationFixture;
  let legacy: IntegrationFixture;
  let handler: (r: Request) => Promise<Response>;
  beforeAll(async () => {
    sw = await createIntegration(db.sql);
    legacy = await createIntegration(db.sql, { orgId: sw.orgId, scheme: "legacy-hmac" });
    handler = handlerWith({ RATE_LIMIT_IP_PER_MINUTE: "1000", RATE_LIMIT_ORG_PER_MINUTE: "1000" });
  });

  it("stores a Standard Webhooks event once, with its delivery id, and answers with rate-limit fields", async () => {
    const body = eventBody();
    const headers = await signedHeaders(sw, body, { deliveryId: "msg_first", ip: "198.51.100.1" });
    const { status, json, res } = await post(handler, sw.integrationId, body, headers);
    expect(status).toBe(200);
    expect(json).toMatchObject({ ok: true, duplicate: false });
    expect(res.headers.get("x-request-id")).toBeTruthy();
    expect(res.headers.get("ratelimit-policy")).toContain('"integration";q=60;w=60');
    expect(res.headers.get("ratelimit")).toMatch(/"integration";r=\d+;t=\d+/);
    const [row] = await db.sql`select event_id, event_type, delivery_id, data, org_id from public.integration_events where id = ${json.id}`;
    expect(row).toMatchObject({ event_id: JSON.parse(body).id, event_type: "order.created", delivery_id: "msg_first", org_id: sw.orgId });
    expect(row.data).toEqual(JSON.parse(body).data);
  });

  it("stores a legacy-scheme event", async () => {
    const body = eventBody();
    const { status, json } = await post(handler, legacy.integrationId, body, await signedHeaders(legacy, body, { ip: "198.51.100.1" }));
    expect(status).toBe(200);
    expect(json.duplicate).toBe(false);
    expect(await rows(legacy.integrationId)).toBe(1);
  });

  it("answers a replayed request inside the window with duplicate: true and writes nothing", async () => {
    const body = eventBody();
    const headers = await signedHeaders(sw, body, { ip: "198.51.100.1" });
    const before = await rows(sw.integrationId);
    expect((await post(handler, sw.integrationId, body, headers)).json.duplicate).toBe(false);
    const replay = await post(handler, sw.integrationId, body, headers);
    expect(replay.status).toBe(200);
    expect(replay.json).toEqual({ ok: true, duplicate: true });
    expect(await rows(sw.integrationId)).toBe(before + 1);
  });

  it("treats the same event id under a new delivery id as a duplicate too", async () => {
    const body = eventBody();
    const before = await rows(sw.integrationId);
    await post(handler, sw.integrationId, body, await signedHeaders(sw, body, { ip: "198.51.100.1" }));
    const again = await post(handler, sw.integrationId, body, await signedHeaders(sw, body, { ip: "198.51.100.1" }));
    expect(again.json).toEqual({ ok: true, duplicate: true });
    expect(await rows(sw.integrationId)).toBe(before + 1);
  });

  it("answers a legacy replay with duplicate: true", async () => {
    const body = eventBody();
    const headers = await signedHeaders(legacy, body, { ip: "198.51.100.1" });
    const before = await rows(legacy.integrationId);
    await post(handler, legacy.integrationId, body, headers);
    expect((await post(handler, legacy.integrationId, body, headers)).json.duplicate).toBe(true);
    expect(await rows(legacy.integrationId)).toBe(before + 1);
  });

  it("refuses forged, stale, cross-scheme and tampered requests without writing", async () => {
    const body = eventBody();
    const before = await rows(sw.integrationId);
    const stale = await signedHeaders(sw, body, { timestamp: Math.floor(Date.now() / 1000) - 301, ip: "198.51.100.1" });
    const forged = await signedHeaders({ scheme: "standard-webhooks", secret: `whsec_${Buffer.alloc(32, 9).toString("base64")}` }, body, { ip: "198.51.100.1" });
    const legacyStyle = await signedHeaders({ scheme: "legacy-hmac", secret: SW_SECRET }, body, { ip: "198.51.100.1" });
    const good = await signedHeaders(sw, body, { ip: "198.51.100.1" });
    for (const [headers, sent, code] of [
      [stale, body, "TIMESTAMP_OUT_OF_TOLERANCE"],
      [forged, body, "SIGNATURE_INVALID"],
      [legacyStyle, body, "SIGNATURE_MISSING"],
      [good, body.replace("order.created", "order.deleted"), "SIGNATURE_INVALID"],
      [{ "content-type": "application/json", "x-forwarded-for": "198.51.100.1" }, body, "SIGNATURE_MISSING"],
    ] as const) {
      const r = await post(handler, sw.integrationId, sent, headers);
      expect(r.status, code).toBe(401);
      expect(r.json.error.code).toBe(code);
    }
    expect(await rows(sw.integrationId)).toBe(before);
    // A legacy integration refuses a Standard Webhooks signature made with its secret's text.
    const r = await post(handler, legacy.integrationId, body, await signedHeaders({ scheme: "standard-webhooks", secret: SW_SECRET }, body));
    expect(r.status).toBe(401);
  });

  it("refuses bad routes, methods, media types, bodies and envelopes with 4xx and no row", async () => {
    const before = await rows(sw.integrationId);
    const body = eventBody();
    const headers = await signedHeaders(sw, body, { ip: "198.51.100.1" });
    const cases: [Request, number, string][] = [
      [new Request("http://localhost/integrations/not-a-uuid", { method: "POST", body, headers }), 404, "NOT_FOUND"],
      [new Request(url(crypto.randomUUID()), { method: "POST", body, headers }), 404, "NOT_FOUND"],
      [new Request(`${url(sw.integrationId)}/extra`, { method: "POST", body, headers }), 404, "NOT_FOUND"],
      [new Request(url(sw.integrationId), { method: "GET", headers }), 405, "METHOD_NOT_ALLOWED"],
      [new Request(url(sw.integrationId), { method: "POST", body, headers: { ...headers, "content-type": "text/plain" } }), 415, "UNSUPPORTED_MEDIA_TYPE"],
      [new Request(url(sw.integrationId), { method: "POST", body: "x".repeat(300_000), headers }), 413, "PAYLOAD_TOO_LARGE"],
    ];
    for (const [req, status, code] of cases) {
      const res = await handler(req);
      expect(res.status, code).toBe(status);
      expect((await res.json()).error.code).toBe(code);
    }
    for (const [text, status, code] of [
      ["{not json", 400, "INVALID_JSON"],
      [JSON.stringify({ type: "x" }), 422, "INVALID_EVENT"],
      [JSON.stringify({ ...JSON.parse(eventBody()), data: { a: "\u0000" } }), 422, "INVALID_EVENT"],
      [eventBody({ occurred_at: "0000-01-01T00:00:00Z" }), 422, "INVALID_EVENT"],
    ] as const) {
      const r = await post(handler, sw.integrationId, text, await signedHeaders(sw, text, { ip: "198.51.100.1" }));
      expect(r.status, text).toBe(status);
      expect(r.json.error.code).toBe(code);
    }
    // Invalid UTF-8 that is correctly signed over its bytes: a 400, never a 500.
    const bytes = new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]);
    const ts = Math.floor(Date.now() / 1000);
    const sig = await signStandardWebhook(SW_SECRET, "msg_bytes", ts, bytes);
    const res = await handler(new Request(url(sw.integrationId), {
      method: "POST",
      body: bytes,
      headers: { "content-type": "application/json", "webhook-id": "msg_bytes", "webhook-timestamp": String(ts), "webhook-signature": sig },
    }));
    expect(res.status).toBe(400);
    expect((await res.json()).error.code).toBe("INVALID_JSON");
    expect(await rows(sw.integrationId)).toBe(before);
  });

  it("answers 404 for a disabled integration", async () => {
    const off = await createIntegration(db.sql, { orgId: sw.orgId, enabled: false });
    const body = eventBody();
    const r = await post(handler, off.integrationId, body, await signedHeaders(off, body));
    expect(r.status).toBe(404);
    expect(await rows(off.integrationId)).toBe(0);
  });

  it("never logs secrets, signatures or bodies", async () => {
    const body = eventBody({ data: { marker: "BODY-MARKER-1234" } });
    const headers = await signedHeaders(sw, body, { ip: "198.51.100.1" });
    await post(handler, sw.integrationId, body, headers);
    await post(handler, sw.integrationId, body.replace("1234", "9999"), headers);
    const all = logLines.join("\n");
    expect(all).not.toContain(SW_SECRET.slice(6, 20));
    expect(all).not.toContain(LEGACY_SECRET);
    expect(all).not.toContain("BODY-MARKER");
    expect(all).not.toContain(headers["webhook-signature"].slice(3, 20));
  });
});

describe("IP allow-lists", () => {
  let fx: IntegrationFixture;
  beforeAll(async () => {
    fx = await createIntegration(db.sql, { allowedIps: ["10.0.0.0/8", "2001:db8::/32"] });
  });

  it("admits addresses inside the list, including IPv4-mapped IPv6, and refuses the rest", async () => {
    const handler = handlerWith({ RATE_LIMIT_IP_PER_MINUTE: "1000" });
    for (const [ip, status] of [
      ["10.1.2.3", 200],
      ["::ffff:10.0.0.1", 200],
      ["2001:db8::5", 200],
      ["010.0.0.5", 403],
      ["0x0a.0.0.1", 403],
      ["11.0.0.1", 403],
      ["::ffff:010.0.0.5", 403],
      ["10.0.0.1, 11.0.0.1", 403],
    ] as const) {
      const body = eventBody();
      const r = await post(handler, fx.integrationId, body, await signedHeaders(fx, body, { ip }));
      expect(r.status, ip).toBe(status);
      if (status === 403) expect(r.json.error.code).toBe("IP_NOT_ALLOWED");
    }
    expect(await rows(fx.integrationId)).toBe(3);
  });

  it("trusts the configured hop only: a client-prepended address does not get in", async () => {
    const handler = handlerWith({ TRUSTED_IP_HOP: "1" });
    const body = eventBody();
    const r = await post(handler, fx.integrationId, body, await signedHeaders(fx, body, { ip: "10.0.0.1, 203.0.113.50" }));
    expect(r.status).toBe(403);
  });

  it("refuses everyone when no client-IP header is trusted (fail closed)", async () => {
    const handler = handlerWith({ TRUSTED_IP_HEADER: "none" });
    const body = eventBody();
    const r = await post(handler, fx.integrationId, body, await signedHeaders(fx, body, { ip: "10.0.0.1" }));
    expect(r.status).toBe(403);
  });
});

describe("rate limits", () => {
  it("stops a flood from one IP with 429 and the draft's fields while another IP is served", async () => {
    const fx = await createIntegration(db.sql, { ratePerMinute: 1000 });
    const handler = handlerWith({ RATE_LIMIT_IP_PER_MINUTE: "5", RATE_LIMIT_ORG_PER_MINUTE: "1000" });
    const statuses: number[] = [];
    let refused: Response | null = null;
    for (let i = 0; i < 12; i++) {
      const body = eventBody();
      const r = await post(handler, fx.integrationId, body, await signedHeaders(fx, body, { ip: "203.0.113.66" }));
      statuses.push(r.status);
      if (r.status === 429) {
        refused ??= r.res;
        expect(r.json.error.code).toBe("RATE_LIMITED");
      }
    }
    expect(statuses.filter((s) => s === 200)).toHaveLength(5);
    expect(statuses.filter((s) => s === 429)).toHaveLength(7);
    expect(Number(refused!.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect(refused!.headers.get("ratelimit-policy")).toBe('"ip";q=5;w=60');
    expect(refused!.headers.get("ratelimit")).toMatch(/^"ip";r=0;t=\d+$/);
    const body = eventBody();
    const other = await post(handler, fx.integrationId, body, await signedHeaders(fx, body, { ip: "203.0.113.67" }));
    expect(other.status).toBe(200);
    expect(await rows(fx.integrationId)).toBe(6);
  });

  it("applies the integration's own limit from the table, and forged requests do not use it up", async () => {
    const fx = await createIntegration(db.sql, { ratePerMinute: 3 });
    const handler = handlerWith({ RATE_LIMIT_IP_PER_MINUTE: "1000", RATE_LIMIT_ORG_PER_MINUTE: "1000" });
    for (let i = 0; i < 10; i++) {
      const body = eventBody();
      const forged = await signedHeaders({ scheme: "standard-webhooks", secret: `whsec_${Buffer.alloc(32, 1).toString("base64")}` }, body, { ip: "198.51.100.9" });
      expect((await post(handler, fx.integrationId, body, forged)).status).toBe(401);
    }
    const statuses = [];
    for (let i = 0; i < 4; i++) {
      const body = eventBody();
      statuses.push((await post(handler, fx.integrationId, body, await signedHeaders(fx, body, { ip: "198.51.100.9" }))).status);
    }
    expect(statuses).toEqual([200, 200, 200, 429]);
  });

  it("applies the organisation's limit across its integrations", async () => {
    const a = await createIntegration(db.sql, { ratePerMinute: 100 });
    const b = await createIntegration(db.sql, { orgId: a.orgId, ratePerMinute: 100 });
    const handler = handlerWith({ RATE_LIMIT_IP_PER_MINUTE: "1000", RATE_LIMIT_ORG_PER_MINUTE: "4" });
    const statuses = [];
    for (const fx of [a, b, a, b, a, b]) {
      const body = eventBody();
      const r = await post(handler, fx.integrationId, body, await signedHeaders(fx, body, { ip: "198.51.100.10" }));
      statuses.push(r.status);
      if (r.status === 429) expect(r.res.headers.get("ratelimit-policy")).toContain('"org";q=4;w=60');
    }
    expect(statuses).toEqual([200, 200, 200, 200, 429, 429]);
  });

  it("keeps limiting, without delay, when the rate-limit store is unreachable", async () => {
    const fx = await createIntegration(db.sql, { ratePerMinute: 1000 });
    const port = await closedPort();
    const handler = handlerWith({
      RATE_LIMIT_STORE: "redis",
      REDIS_URL: `redis://127.0.0.1:${port}`,
      RATE_LIMIT_IP_PER_MINUTE: "3",
      RATE_LIMIT_ORG_PER_MINUTE: "1000",
    });
    const statuses = [];
    for (let i = 0; i < 5; i++) {
      const body = eventBody();
      const started = performance.now();
      statuses.push((await post(handler, fx.integrationId, body, await signedHeaders(fx, body, { ip: "192.0.2.44" }))).status);
      // Generous: the store's budget is 50 ms; a limiter waiting on the store would take seconds.
      expect(performance.now() - started).toBeLessThan(1000);
    }
    expect(statuses).toEqual([200, 200, 200, 429, 429]);
    expect(logLines.some((l) => l.includes("in-isolate limiter decides"))).toBe(true);
  });
});

describe("failures that are not the sender's", () => {
  it("answers 503 UNAVAILABLE (not 500) when the database is unreachable", async () => {
    const postgres = (await import("postgres")).default;
    const port = await closedPort();
    const dead = postgres(`postgres://postgres@127.0.0.1:${port}/x`, { connect_timeout: 1, max: 1, onnotice: () => {} });
    const handler = buildHandler({ DATABASE_URL: `postgres://postgres@127.0.0.1:${port}/x`, ...BASE_ENV }, { sql: dead, logger });
    const body = eventBody();
    const r = await post(handler, crypto.randomUUID(), body, { "content-type": "application/json" });
    expect(r.status).toBe(503);
    expect(r.json.error.code).toBe("UNAVAILABLE");
    expect(r.res.headers.get("retry-after")).toBe("5");
    await dead.end({ timeout: 0 });
  });

  it("answers 503 NOT_CONFIGURED when the database URL is missing", async () => {
    const handler = buildHandler({}, { logger });
    const res = await handler(new Request(url(crypto.randomUUID()), { method: "POST", body: "{}" }));
    expect(res.status).toBe(503);
    expect((await res.json()).error.code).toBe("NOT_CONFIGURED");
  });
});
