// Alerts end to end: conditions induced through the real functions under Deno (a stalled database
// under steady calls, a forged flood, a circuit breaker kept open), the evaluation run as the
// schedule runs it (select public.evaluate_alerts(), time shifted with p_now, never slept), and
// delivery through POST /functions/v1/alerts/deliver to a local receiver that checks signatures.
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { closedPort, createIntegration, eventBody, signedHeaders } from "../../integration/security/support.ts";
import { startAlertReceiver, type AlertReceiver } from "../../support/alert-receiver.ts";
import { createTestDatabase, type TestDatabase } from "../../support/database.ts";
import { createClient, createOrgWithNumber } from "../../support/fixtures.ts";
import { generateEd25519KeyPair, initializationEvent, signTelnyx, type Ed25519KeyPair } from "../../support/telnyx-signing.ts";
import { startFunctionsServer, type FunctionsServer } from "../support/server.ts";

const NUMBER = "+14165550100";
const JANE = "+14165550199";
const TOKEN = "e2e-alerts-token-0123456789";
const SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

let db: TestDatabase;
let keys: Ed25519KeyPair;
let server: FunctionsServer;
let receiver: AlertReceiver;

async function calls(n: number): Promise<string[]> {
  return await Promise.all(Array.from({ length: n }, async () => {
    const body = initializationEvent(JANE, NUMBER);
    const res = await fetch(server.functionUrl("telnyx-webhook"), { method: "POST", body, headers: await signTelnyx(keys.privateKey, body) });
    return (await res.json()).dynamic_variables?.lookup_status as string;
  }));
}

/** GET /metrics makes the server (one process for every function locally) flush its counters and breakers. */
async function flushMetrics(): Promise<string> {
  const res = await fetch(server.functionUrl("metrics"), { headers: { authorization: `Bearer ${TOKEN}` } });
  expect(res.status).toBe(200);
  return await res.text();
}

async function evaluate(offsetSeconds = 0): Promise<Record<string, unknown>> {
  const [row] = await db.sql`select public.evaluate_alerts(now() + make_interval(secs => ${offsetSeconds})) as r`;
  return row.r;
}

async function deliver(): Promise<{ status: number; body: Record<string, number> }> {
  const res = await fetch(server.functionUrl("alerts/deliver"), { method: "POST", headers: { authorization: `Bearer ${TOKEN}` } });
  return { status: res.status, body: await res.json() };
}

const received = (transition: string) =>
  receiver.accepted.filter((n) => n.body.type === `alert.${transition}`).map((n) => n.body.data.rule).sort();

beforeAll(async () => {
  db = await createTestDatabase();
  keys = await generateEd25519KeyPair();
  const { orgId } = await createOrgWithNumber(db.sql, { name: "Pinecrest", number: NUMBER });
  await createClient(db.sql, orgId, "Jane Cooper", "(416) 555-0199");
  receiver = await startAlertReceiver(SECRET);
  await db.sql`insert into public.alert_destinations (org_id, name, url, secret) values (null, 'operator', ${receiver.url}, ${SECRET})`;
  server = await startFunctionsServer({
    env: {
      DATABASE_URL: db.url,
      TELNYX_PUBLIC_KEY: keys.publicKeySpki,
      METRICS_TOKEN: TOKEN,
      METRICS_FLUSH_INTERVAL_MS: "1000",
      // The integrations function's rate-limit store is a Redis that is not there: its breaker opens.
      RATE_LIMIT_STORE: "redis",
      REDIS_URL: `redis://127.0.0.1:${await closedPort()}`,
      TRUSTED_IP_HEADER: "x-forwarded-for",
    },
  });
}, 60_000);

afterAll(async () => {
  await server?.stop();
  await receiver?.close();
  await db?.drop();
});

describe("a stalled database under steady calls", () => {
  it("sends one signed firing notice per rule that fired, once", async () => {
    await evaluate(); // the baseline
    const locker = postgres(db.url, { max: 1, onnotice: () => {} });
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let locked!: () => void;
    const isLocked = new Promise<void>((resolve) => (locked = resolve));
    const tx = locker.begin(async (sql) => {
      await sql`lock table public.clients in access exclusive mode`;
      locked();
      await held;
    });
    try {
      await isLocked;
      const statuses = await calls(12);
      expect(statuses).toEqual(Array(12).fill("timeout"));
    } finally {
      release();
      await tx;
      await locker.end();
    }
    await flushMetrics();
    const summary = await evaluate();
    expect(summary).toMatchObject({ fired: 2, errors: {} });

    const run = await deliver();
    expect(run).toEqual({ status: 200, body: { claimed: 2, sent: 2, retrying: 0, failed: 0, lost: 0 } });
    expect(received("firing")).toEqual(["telnyx_error_rate", "telnyx_response_time"]);
    const errorNotice = receiver.accepted.find((n) => n.body.data.rule === "telnyx_error_rate")!;
    expect(errorNotice.webhookId).toMatch(/^alert_\d+$/);
    expect(errorNotice.body.text).toMatch(/^\[FIRING\] critical: Telnyx webhook errors over 5 % of answers\. Observed 100\.0 %/);
    expect(errorNotice.body.data).toMatchObject({ status: "firing", severity: "critical", value: 1, org_id: null });

    // The condition still holds a moment later: nothing new is sent.
    await evaluate(5);
    expect((await deliver()).body.claimed).toBe(0);
    expect(receiver.accepted).toHaveLength(2);
  });

  it("sends one resolved notice per rule once the window is clear for a minute", async () => {
    expect(await calls(12)).toEqual(Array(12).fill("found"));
    await flushMetrics();
    expect(await evaluate(61)).toMatchObject({ resolved: 0 });
    expect(await evaluate(122)).toMatchObject({ resolved: 2 });
    expect((await deliver()).body).toMatchObject({ claimed: 2, sent: 2 });
    expect(received("resolved")).toEqual(["telnyx_error_rate", "telnyx_response_time"]);
    expect(receiver.accepted).toHaveLength(4);
    expect((await deliver()).body.claimed).toBe(0);
  });

  it("does not count a forged flood as our error rate", async () => {
    const forged = await Promise.all(Array.from({ length: 40 }, async () => {
      const body = initializationEvent(JANE, NUMBER);
      const headers = { ...(await signTelnyx(keys.privateKey, body)), "content-type": "application/json" };
      const res = await fetch(server.functionUrl("telnyx-webhook"), { method: "POST", body: body + " ", headers });
      await res.body?.cancel();
      return res.status;
    }));
    expect(new Set(forged)).toEqual(new Set([401]));
    expect(await calls(10)).toEqual(Array(10).fill("found"));
    const text = await flushMetrics();
    expect(text).toMatch(/switchboard_http_errors_total\{code="SIGNATURE_INVALID",function="telnyx-webhook"\} 40/);
    expect(await evaluate(183)).toMatchObject({ opened: 0, errors: {} });
    expect((await deliver()).body.claimed).toBe(0);
    expect(receiver.accepted).toHaveLength(4);
  });
});

describe("a circuit breaker open for more than two minutes", () => {
  it("fires once, and a receiver that fails twice gets the notice once", async () => {
    await db.sql`update public.alert_rules set enabled = (kind = 'breaker_open')`;
    const fx = await createIntegration(db.sql, { ratePerMinute: 1000 });
    const knock = async () => {
      for (let i = 0; i < 4; i++) {
        const body = eventBody();
        const res = await fetch(server.functionUrl(`integrations/${fx.integrationId}`), {
          method: "POST", body, headers: await signedHeaders(fx, body, { ip: "198.51.100.7" }),
        });
        await res.body?.cancel();
      }
      await flushMetrics();
    };
    await knock();
    const [report] = await db.sql`select state from public.breaker_reports where name = 'ratelimit:redis'`;
    expect(report.state).not.toBe("closed");

    const start = await db.sql`select now() as t`;
    const at = async (seconds: number) => {
      const [row] = await db.sql`select public.evaluate_alerts(${start[0].t}::timestamptz + make_interval(secs => ${seconds})) as r`;
      return row.r;
    };
    expect(await at(0)).toMatchObject({ opened: 1, fired: 0 });
    expect(await at(60)).toMatchObject({ fired: 0 });
    await knock(); // still failing, reported again
    expect(await at(120)).toMatchObject({ fired: 1 });

    receiver.failNext = 2;
    const run = await deliver();
    expect(run.body).toMatchObject({ claimed: 1, sent: 1 });
    const attempts = receiver.attempts.slice(-3);
    expect(attempts.map((a) => a.status)).toEqual([500, 500, 200]);
    expect(new Set(attempts.map((a) => a.webhookId)).size).toBe(1);
    const breakerNotices = receiver.accepted.filter((n) => n.body.data.rule === "breaker_open");
    expect(breakerNotices).toHaveLength(1);
    expect(breakerNotices[0].body.data.details).toMatchObject({ breakers: ["ratelimit:redis"] });
    expect((await deliver()).body.claimed).toBe(0);
  });

  it("lists the incident with its timeline at /health/incidents, and in /health/detailed", async () => {
    const res = await fetch(`${server.functionUrl("health")}/incidents?status=open`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(res.status).toBe(200);
    const { incidents } = await res.json();
    expect(incidents).toHaveLength(1);
    expect(incidents[0]).toMatchObject({ rule: "breaker_open", status: "firing" });
    expect(incidents[0].timeline.map((e: { event: string }) => e.event)).toEqual(["pending", "firing", "notice_sent"]);
    expect(incidents[0].notices).toMatchObject([{ transition: "firing", status: "sent", attempts: 1, destination: "operator" }]);

    const detailed = await (await fetch(`${server.functionUrl("health")}/detailed`, { headers: { authorization: `Bearer ${TOKEN}` } })).json();
    expect(detailed.checks.incidents.map((i: { rule: string }) => i.rule)).toEqual(["breaker_open"]);
    expect(detailed.reasons).toContain("alert breaker_open firing (critical)");

    const bad = await fetch(`${server.functionUrl("health")}/incidents?limit=0`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(bad.status).toBe(400);
    expect((await bad.json()).error.code).toBe("BAD_REQUEST");
    const anonymous = await fetch(`${server.functionUrl("health")}/incidents`);
    expect(anonymous.status).toBe(401);
  });
});
