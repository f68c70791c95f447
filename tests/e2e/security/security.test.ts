// The security functions under real Deno (scripts/serve.ts, as `npm start` runs it), over HTTP, with
// real Postgres and, when it answers, real Redis: signatures, replays, rate limits with either store
// and with the store gone, allow-lists, health and metrics.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../../support/database.ts";
import { startFunctionsServer, type FunctionsServer } from "../support/server.ts";
import {
  closedPort,
  createIntegration,
  eventBody,
  type IntegrationFixture,
  REDIS_URL,
  redisAvailable,
  signedHeaders,
} from "../../integration/security/support.ts";

const TOKEN = "e2e-metrics-token-000001";
const hasRedis = await redisAvailable();
let db: TestDatabase;
let server: FunctionsServer;
let fx: IntegrationFixture;
let allowListed: IntegrationFixture;
// Fresh addresses per run: Redis outlives test databases.
const net = `198.18.${Math.floor(Math.random() * 250)}`;

async function send(target: FunctionsServer, f: IntegrationFixture, body: string, headers: Record<string, string>) {
  const res = await fetch(target.functionUrl(`integrations/${f.integrationId}`), { method: "POST", body, headers });
  return { res, json: await res.json() };
}

async function rows(id: string): Promise<number> {
  const [r] = await db.sql`select count(*)::int as n from public.integration_events where integration_id = ${id}`;
  return r.n;
}

beforeAll(async () => {
  db = await createTestDatabase();
  fx = await createIntegration(db.sql, { ratePerMinute: 1000 });
  allowListed = await createIntegration(db.sql, { orgId: fx.orgId, allowedIps: ["10.0.0.0/8"], ratePerMinute: 1000 });
  server = await startFunctionsServer({
    env: {
      DATABASE_URL: db.url,
      TRUSTED_IP_HEADER: "x-forwarded-for",
      RATE_LIMIT_IP_PER_MINUTE: "5",
      RATE_LIMIT_ORG_PER_MINUTE: "1000",
      METRICS_TOKEN: TOKEN,
      ...(hasRedis ? { REDIS_URL } : {}),
    },
  });
}, 60_000);

afterAll(async () => {
  await server?.stop();
  await db?.drop();
});

describe("integrations under Deno", () => {
  it("stores a signed event, answers a replay as a duplicate, refuses a forgery", async () => {
    const body = eventBody();
    const headers = await signedHeaders(fx, body, { ip: `${net}.1` });
    const first = await send(server, fx, body, headers);
    expect(first.res.status).toBe(200);
    expect(first.json).toMatchObject({ ok: true, duplicate: false });
    const replay = await send(server, fx, body, headers);
    expect(replay.json).toEqual({ ok: true, duplicate: true });
    const forged = await send(server, fx, body.replace("order.created", "order.paid"), headers);
    expect(forged.res.status).toBe(401);
    expect(forged.json.error.code).toBe("SIGNATURE_INVALID");
    expect(await rows(fx.integrationId)).toBe(1);
    const line = await server.waitForLog((l) => l.function === "integrations" && l.status === 200);
    expect(line.rate_limit_store).toBe(hasRedis ? "redis" : "postgres");
  });

  it("stops a flood from one IP with 429 while another IP is served", async () => {
    const statuses: number[] = [];
    let retryAfter: string | null = null;
    for (let i = 0; i < 8; i++) {
      const body = eventBody();
      const { res } = await send(server, fx, body, await signedHeaders(fx, body, { ip: `${net}.2` }));
      statuses.push(res.status);
      if (res.status === 429) retryAfter ??= res.headers.get("retry-after");
    }
    expect(statuses.filter((s) => s === 200)).toHaveLength(5);
    expect(statuses.filter((s) => s === 429)).toHaveLength(3);
    expect(Number(retryAfter)).toBeGreaterThanOrEqual(1);
    const body = eventBody();
    expect((await send(server, fx, body, await signedHeaders(fx, body, { ip: `${net}.3` }))).res.status).toBe(200);
  });

  it("applies the allow-list to the trusted hop, with strict parsing", async () => {
    for (const [ip, status] of [["10.2.3.4", 200], ["::ffff:10.0.0.1", 200], ["010.0.0.5", 403], ["0x0a.0.0.1", 403]] as const) {
      const body = eventBody();
      const { res } = await send(server, allowListed, body, await signedHeaders(allowListed, body, { ip }));
      expect(res.status, ip).toBe(status);
    }
  });
});

describe("health and metrics under Deno", () => {
  it("serves /health openly and /health/detailed and /metrics only with the token", async () => {
    const health = await fetch(server.functionUrl("health"));
    expect(health.status).toBe(200);
    expect((await fetch(server.functionUrl("health/detailed"))).status).toBe(401);
    const detailed = await fetch(server.functionUrl("health/detailed"), { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(detailed.status).toBe(200);
    const body = await detailed.json();
    expect(body.checks.database.status).toBe("up");
    expect(["healthy", "degraded"]).toContain(body.status);
    expect((await fetch(server.functionUrl("metrics"))).status).toBe(401);
    const metrics = await fetch(server.functionUrl("metrics"), { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(metrics.status).toBe(200);
    const text = await metrics.text();
    expect(text).toMatch(/switchboard_http_requests_total\{function="integrations",status="200"\} \d+/);
    expect(text).toMatch(/switchboard_rate_limit_rejections_total\{function="integrations",scope="ip"\} \d+/);
  });
});

describe("rate-limit store unreachable, under Deno", () => {
  it("serves without delay and still limits with the in-isolate limiter", async () => {
    const port = await closedPort();
    const degraded = await startFunctionsServer({
      env: {
        DATABASE_URL: db.url,
        TRUSTED_IP_HEADER: "x-forwarded-for",
        RATE_LIMIT_STORE: "redis",
        REDIS_URL: `redis://127.0.0.1:${port}`,
        RATE_LIMIT_IP_PER_MINUTE: "3",
      },
    });
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 5; i++) {
        const body = eventBody();
        const started = performance.now();
        const { res } = await send(degraded, fx, body, await signedHeaders(fx, body, { ip: `${net}.9` }));
        statuses.push(res.status);
        expect(performance.now() - started).toBeLessThan(1500);
      }
      expect(statuses).toEqual([200, 200, 200, 429, 429]);
      await degraded.waitForLog((l) => l.msg === "rate-limit store failed; in-isolate limiter decides");
    } finally {
      await degraded.stop();
    }
  });
});
