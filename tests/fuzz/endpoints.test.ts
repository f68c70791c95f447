// Fuzz: generated malformed requests to every public endpoint through the real Deno server
// (scripts/serve.ts via tests/e2e/support/server.ts): integrations (both schemes, often with a valid
// signature over a malformed body so that parsing and validation are reached), health, metrics and
// telnyx-webhook, the web-chat API, whatsapp-webhook and the template builder (Meta-signed malformed
// bodies too). Nothing may
// answer 500 or crash the server, and no state row may be written.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../support/database.ts";
import { startFunctionsServer, type FunctionsServer } from "../e2e/support/server.ts";
import { createIntegration, type IntegrationFixture, signedHeaders } from "../integration/security/support.ts";
import { generateEd25519KeyPair, signTelnyx, type Ed25519KeyPair } from "../support/telnyx-signing.ts";
import { createOrgWithNumber } from "../support/fixtures.ts";
import { signMeta } from "../../functions/_shared/signatures/meta.ts";
import {
  badBody,
  badContentType,
  badForwardedFor,
  badHeaderValue,
  badPathSuffix,
  Gen,
  malformedBody,
  METHODS,
  prng,
} from "./generators.ts";

const PER_ENDPOINT = Number(process.env.FUZZ_REQUESTS_PER_ENDPOINT ?? 1000);
const SEED = Number(process.env.FUZZ_SEED ?? Date.now() % 2 ** 31);
const TOKEN = "fuzz-metrics-token-0000001";
const APP_SECRET = "fuzz-app-secret";
const SERVICE_KEY = "fuzz-service-role-key-0000001";
const CONCURRENCY = 8;
// Tables whose rows are bookkeeping by design (logs, counters), not state a request may create.
const BOOKKEEPING = ["webhook_logs", "rate_limit_counters", "metric_samples", "breaker_reports", "audit_logs"];

let db: TestDatabase;
let server: FunctionsServer;
let sw: IntegrationFixture;
let legacy: IntegrationFixture;
let keys: Ed25519KeyPair;

async function stateRows(): Promise<Record<string, number>> {
  const tables = await db.sql<{ name: string }[]>`
    select c.relname as name from pg_class c
    where c.relnamespace = 'public'::regnamespace and c.relkind = 'r' and not (c.relname = any (${BOOKKEEPING}))`;
  const out: Record<string, number> = {};
  for (const { name } of tables) {
    const [r] = await db.sql.unsafe(`select count(*)::int as n from public."${name}"`);
    out[name] = r.n;
  }
  return out;
}

interface Case {
  endpoint: string;
  url: string;
  init: RequestInit;
  label: string;
}

async function runAll(cases: Case[]): Promise<{ statuses: Map<number, number>; failures: string[] }> {
  const statuses = new Map<number, number>();
  const failures: string[] = [];
  let next = 0;
  async function worker() {
    while (next < cases.length) {
      const c = cases[next++];
      try {
        const res = await fetch(c.url, { ...c.init, signal: AbortSignal.timeout(15_000) });
        await res.arrayBuffer();
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        if (res.status >= 500) failures.push(`${res.status} ${c.label}`);
      } catch (error) {
        failures.push(`no answer (${(error as Error).name}) ${c.label}`);
      }
    }
  }
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  return { statuses, failures };
}

/** A generated body as fetch takes it (bytes are sent as they are). */
function asBody(method: string, body: string | Uint8Array): BodyInit | undefined {
  return method === "GET" || method === "HEAD" ? undefined : (body as BodyInit);
}

function headersFrom(entries: [string, string | null][]): Record<string, string> {
  const h: Record<string, string> = {};
  for (const [k, v] of entries) if (v !== null) h[k] = v;
  return h;
}

beforeAll(async () => {
  console.log(`fuzz seed ${SEED} (replay with FUZZ_SEED=${SEED}), ${PER_ENDPOINT} requests per endpoint`);
  db = await createTestDatabase();
  sw = await createIntegration(db.sql, { ratePerMinute: 100000 });
  legacy = await createIntegration(db.sql, { orgId: sw.orgId, scheme: "legacy-hmac", ratePerMinute: 100000 });
  const { orgId } = await createOrgWithNumber(db.sql, { name: "Fuzz Org", number: "+14165550100" });
  await db.sql`insert into public.chat_sites (org_id, site_key) values (${orgId}, 'fuzz-site')`;
  await db.sql`insert into public.whatsapp_numbers (org_id, phone_number_id) values (${orgId}, '100000000000009')`;
  keys = await generateEd25519KeyPair();
  server = await startFunctionsServer({
    env: {
      DATABASE_URL: db.url,
      TELNYX_PUBLIC_KEY: keys.publicKeySpki,
      METRICS_TOKEN: TOKEN,
      TRUSTED_IP_HEADER: "x-forwarded-for",
      // Limits off: a flood from one address must reach parsing and validation, not stop at 429.
      RATE_LIMIT_IP_PER_MINUTE: "0",
      RATE_LIMIT_ORG_PER_MINUTE: "0",
      CHAT_RATE_LIMIT_IP_PER_MINUTE: "0",
      CHAT_RATE_LIMIT_SITE_PER_MINUTE: "0",
      WHATSAPP_APP_SECRET: APP_SECRET,
      WHATSAPP_VERIFY_TOKEN: "fuzz-verify",
      SUPABASE_SERVICE_ROLE_KEY: SERVICE_KEY,
      LOG_LEVEL: "warn",
    },
  });
}, 120_000);

afterAll(async () => {
  await server?.stop();
  await db?.drop();
});

function integrationCases(g: Gen, fx: IntegrationFixture, n: number): Promise<Case[]> {
  return Promise.all(Array.from({ length: n }, async (_, i) => {
    const { body, kind } = malformedBody(g);
    const signed = g.chance(0.6);
    const entries: [string, string | null][] = [
      ["content-type", g.chance(0.85) ? "application/json" : badContentType(g)],
      ["x-forwarded-for", badForwardedFor(g)],
    ];
    let headers = headersFrom(entries);
    if (signed && typeof body === "string") {
      headers = { ...(await signedHeaders(fx, body, { timestamp: Math.floor(Date.now() / 1000) + g.pick([0, 0, 0, -400, 400]) })), ...headers };
    } else {
      for (const name of fx.scheme === "standard-webhooks"
        ? ["webhook-id", "webhook-timestamp", "webhook-signature"]
        : ["x-timestamp", "x-signature"]) {
        if (g.chance(0.7)) headers[name] = badHeaderValue(g);
      }
    }
    const method = g.chance(0.85) ? "POST" : g.pick(METHODS);
    const path = g.chance(0.85) ? `integrations/${fx.integrationId}` : `integrations/${g.pick([crypto.randomUUID(), "x", "", fx.integrationId + "0"])}${badPathSuffix(g)}`;
    return {
      endpoint: "integrations",
      url: server.functionUrl(path),
      init: { method, headers, body: asBody(method, body) },
      label: `#${i} ${method} ${fx.scheme} ${kind}${signed ? " signed" : ""}`,
    };
  }));
}

function opsCases(
  g: Gen,
  endpoint: "health" | "health/detailed" | "health/incidents" | "metrics" | "alerts/deliver",
  n: number,
): Case[] {
  return Array.from({ length: n }, (_, i) => {
    const method = g.pick(METHODS);
    const auth = g.pick([null, `Bearer ${TOKEN}`, "Bearer", "Bearer  ", `Basic ${TOKEN}`, `Bearer ${TOKEN}x`, badHeaderValue(g), `bearer ${TOKEN}`]);
    const { body } = badBody(g);
    return {
      endpoint,
      url: server.functionUrl(`${endpoint}${g.chance(0.6) ? "" : badPathSuffix(g)}`),
      init: {
        method,
        headers: headersFrom([["authorization", auth], ["content-type", badContentType(g)], ["x-request-id", g.pick([null, badHeaderValue(g), "ok-request-id-1"])]]),
        body: asBody(method, typeof body === "string" ? body.slice(0, 10_000) : body),
      },
      label: `#${i} ${method} ${endpoint} auth=${String(auth).slice(0, 20)}`,
    };
  });
}

async function telnyxCases(g: Gen, n: number): Promise<Case[]> {
  return Promise.all(Array.from({ length: n }, async (_, i) => {
    const { body, kind } = badBody(g);
    const signed = g.chance(0.5) && typeof body === "string";
    const headers = signed
      ? await signTelnyx(keys.privateKey, body as string, Math.floor(Date.now() / 1000) + g.pick([0, 0, -400]))
      : headersFrom([
        ["content-type", badContentType(g)],
        ["telnyx-signature-ed25519", g.chance(0.7) ? badHeaderValue(g) : null],
        ["telnyx-timestamp", g.chance(0.7) ? badHeaderValue(g) : null],
      ]);
    const method = g.chance(0.85) ? "POST" : g.pick(METHODS);
    return {
      endpoint: "telnyx-webhook",
      url: server.functionUrl(`telnyx-webhook${g.chance(0.9) ? "" : badPathSuffix(g)}`),
      init: { method, headers, body: asBody(method, body) },
      label: `#${i} ${method} telnyx ${kind}${signed ? " signed" : ""}`,
    };
  }));
}

function chatCases(g: Gen, n: number): Case[] {
  return Array.from({ length: n }, (_, i) => {
    const { body, kind } = g.chance(0.5) ? badBody(g) : malformedBody(g);
    const id = g.pick([crypto.randomUUID(), "x", "00000000-0000-0000-0000-000000000000", ""]);
    const path = g.pick(["chat/sessions", `chat/sessions/${id}`, `chat/sessions/${id}/messages`, `chat/sessions/${id}/debug`, "chat/sweep", `chat/${id}`]);
    const method = g.chance(0.7) ? g.pick(["POST", "GET"]) : g.pick(METHODS);
    const auth = g.pick([null, "Bearer", `Bearer ${"a".repeat(43)}`, `Bearer ${SERVICE_KEY}x`, badHeaderValue(g)]);
    return {
      endpoint: "chat",
      url: server.functionUrl(`${path}${g.chance(0.9) ? "" : badPathSuffix(g)}`),
      init: {
        method,
        headers: headersFrom([["content-type", g.chance(0.7) ? "application/json" : badContentType(g)], ["authorization", auth]]),
        body: asBody(method, body),
      },
      label: `#${i} ${method} ${path} ${kind}`,
    };
  });
}

async function whatsappCases(g: Gen, n: number): Promise<Case[]> {
  return Promise.all(Array.from({ length: n }, async (_, i) => {
    if (g.chance(0.15)) {
      const query = g.pick(["", "?hub.mode=subscribe", `?hub.mode=subscribe&hub.verify_token=${badHeaderValue(g)}&hub.challenge=1`, "?hub.challenge=%00"]);
      return { endpoint: "whatsapp-webhook", url: server.functionUrl(`whatsapp-webhook${query}`), init: { method: "GET" }, label: `#${i} GET ${query}` };
    }
    const { body, kind } = g.chance(0.5) ? malformedBody(g) : badBody(g);
    const signed = g.chance(0.6) && typeof body === "string";
    const headers = headersFrom([
      ["content-type", g.chance(0.8) ? "application/json" : badContentType(g)],
      ["x-hub-signature-256", signed ? await signMeta(APP_SECRET, body as string) : g.chance(0.6) ? badHeaderValue(g) : null],
    ]);
    const method = g.chance(0.9) ? "POST" : g.pick(METHODS);
    return {
      endpoint: "whatsapp-webhook",
      url: server.functionUrl(`whatsapp-webhook${g.chance(0.9) ? "" : badPathSuffix(g)}`),
      init: { method, headers, body: asBody(method, body) },
      label: `#${i} ${method} whatsapp ${kind}${signed ? " signed" : ""}`,
    };
  }));
}

async function templateBuilderCases(g: Gen, n: number): Promise<Case[]> {
  return Promise.all(Array.from({ length: n }, async (_, i) => {
    const { body, kind } = g.chance(0.5) ? malformedBody(g) : badBody(g);
    const id = g.pick([crypto.randomUUID(), "x", "00000000-0000-0000-0000-000000000000", ""]);
    // Not session/new: it creates a session, which is state by design.
    const path = g.pick(["validate", "chat", "webhook", `session/${id}`, `session/${id}/submit`, `session/${id}/debug`, "health", `x/${id}`]);
    const signed = path === "webhook" && g.chance(0.6) && typeof body === "string";
    const method = g.chance(0.8) ? g.pick(["POST", "GET"]) : g.pick(METHODS);
    const headers = headersFrom([
      ["content-type", g.chance(0.8) ? "application/json" : badContentType(g)],
      ["authorization", g.pick([null, "Bearer", `Bearer ${SERVICE_KEY}x`, badHeaderValue(g)])],
      ["x-hub-signature-256", signed ? await signMeta(APP_SECRET, body as string) : g.chance(0.3) ? badHeaderValue(g) : null],
    ]);
    return {
      endpoint: "template-builder",
      url: server.functionUrl(`template-builder/${path}${g.chance(0.9) ? "" : badPathSuffix(g)}`),
      init: { method, headers, body: asBody(method, body) },
      label: `#${i} ${method} template-builder/${path} ${kind}${signed ? " signed" : ""}`,
    };
  }));
}

describe("fuzz: malformed requests to every public endpoint", () => {
  it(`answers every one without a 500, stays up, and writes no state`, async () => {
    const g = new Gen(prng(SEED));
    const before = await stateRows();
    const cases: Case[] = [
      ...(await integrationCases(g, sw, PER_ENDPOINT)),
      ...(await integrationCases(g, legacy, PER_ENDPOINT)),
      ...opsCases(g, "health", PER_ENDPOINT),
      ...opsCases(g, "health/detailed", PER_ENDPOINT),
      ...opsCases(g, "metrics", PER_ENDPOINT),
      ...opsCases(g, "health/incidents", PER_ENDPOINT),
      ...opsCases(g, "alerts/deliver", PER_ENDPOINT),
      ...(await telnyxCases(g, PER_ENDPOINT)),
      ...chatCases(g, PER_ENDPOINT),
      ...(await whatsappCases(g, PER_ENDPOINT)),
      ...(await templateBuilderCases(g, PER_ENDPOINT)),
    ];
    const started = performance.now();
    const { statuses, failures } = await runAll(cases);
    const seconds = (performance.now() - started) / 1000;
    console.log(`fuzz: ${cases.length} requests in ${seconds.toFixed(1)} s; statuses ${JSON.stringify(Object.fromEntries([...statuses].sort()))}`);
    expect(failures.slice(0, 20), `seed ${SEED}`).toEqual([]);
    expect(cases.length).toBeGreaterThanOrEqual(PER_ENDPOINT * 8);
    // The fuzz went deep: signed malformed bodies reached JSON parsing and envelope validation.
    expect(statuses.get(400) ?? 0).toBeGreaterThan(0);
    expect(statuses.get(422) ?? 0).toBeGreaterThan(0);
    // Still serving, and nothing reached the server's last-resort catch.
    expect((await fetch(server.functionUrl("health"))).status).toBe(200);
    expect(server.output().filter((l) => l.includes("handler threw"))).toEqual([]);
    expect(server.logs().filter((l) => l.msg === "unhandled error")).toEqual([]);
    await new Promise((r) => setTimeout(r, 300));
    expect(await stateRows()).toEqual(before);
  }, 300_000);
});
