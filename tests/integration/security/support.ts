// Helpers for the security suites: integrations rows, signed requests, local servers that misbehave.
import net from "node:net";
import http from "node:http";
import type postgres from "postgres";
import { encodeBase64 } from "../../../functions/_shared/signatures/encoding.ts";
import { signLegacyHmac, signStandardWebhook } from "../../../functions/_shared/signatures/index.ts";

export const SW_SECRET = `whsec_${encodeBase64(new Uint8Array(32).map((_, i) => (i * 37 + 11) & 0xff))}`;
export const LEGACY_SECRET = "legacy-secret-for-tests-0001";

export interface IntegrationFixture {
  orgId: string;
  integrationId: string;
  scheme: "standard-webhooks" | "legacy-hmac";
  secret: string;
}

export async function createIntegration(
  sql: postgres.Sql,
  options: {
    orgId?: string;
    scheme?: "standard-webhooks" | "legacy-hmac";
    allowedIps?: string[];
    ratePerMinute?: number;
    enabled?: boolean;
    name?: string;
  } = {},
): Promise<IntegrationFixture> {
  const orgId = options.orgId ??
    (await sql`insert into public.orgs (name) values ('Security Test Org') returning id`)[0].id;
  const scheme = options.scheme ?? "standard-webhooks";
  const secret = scheme === "standard-webhooks" ? SW_SECRET : LEGACY_SECRET;
  const [row] = await sql`
    insert into public.integrations (org_id, name, scheme, secret, allowed_ips, rate_limit_per_minute, enabled)
    values (${orgId}, ${options.name ?? `integration-${crypto.randomUUID().slice(0, 8)}`}, ${scheme}, ${secret},
            ${options.allowedIps ?? []}::cidr[], ${options.ratePerMinute ?? 60}, ${options.enabled ?? true})
    returning id`;
  return { orgId, integrationId: row.id, scheme, secret };
}

let counter = 0;
export function eventBody(overrides: Record<string, unknown> = {}): string {
  counter++;
  return JSON.stringify({
    type: "order.created",
    id: `evt_${Date.now()}_${counter}_${Math.random().toString(36).slice(2, 8)}`,
    occurred_at: new Date().toISOString(),
    data: { order_id: `A-${counter}`, total: 12.5 },
    ...overrides,
  });
}

/** Headers a sender of this integration's scheme would send for `body`. */
export async function signedHeaders(
  fx: Pick<IntegrationFixture, "scheme" | "secret">,
  body: string,
  options: { timestamp?: number; deliveryId?: string; ip?: string } = {},
): Promise<Record<string, string>> {
  const ts = options.timestamp ?? Math.floor(Date.now() / 1000);
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (options.ip) headers["x-forwarded-for"] = options.ip;
  if (fx.scheme === "standard-webhooks") {
    const id = options.deliveryId ?? `msg_${crypto.randomUUID().replaceAll("-", "")}`;
    headers["webhook-id"] = id;
    headers["webhook-timestamp"] = String(ts);
    headers["webhook-signature"] = await signStandardWebhook(fx.secret, id, ts, body);
  } else {
    headers["x-timestamp"] = String(ts);
    headers["x-signature"] = await signLegacyHmac(fx.secret, ts, body);
  }
  return headers;
}

/** A TCP port on 127.0.0.1 with nothing listening (bound, then closed). */
export async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** A TCP server that accepts connections and never says a word: a stalled dependency. */
export async function stalledServer(): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on("error", () => {});
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** A local HTTP server whose behaviour a test sets per request. */
export async function scriptedServer(
  respond: (req: http.IncomingMessage, n: number) => { status: number; body?: string; delayMs?: number; headers?: Record<string, string> },
): Promise<{ url: string; requests: http.IncomingMessage[]; close(): Promise<void> }> {
  const requests: http.IncomingMessage[] = [];
  const server = http.createServer((req, res) => {
    requests.push(req);
    const { status, body = "", delayMs = 0, headers = {} } = respond(req, requests.length);
    const timer = setTimeout(() => {
      res.writeHead(status, { "content-type": "text/plain", ...headers });
      res.end(body);
    }, delayMs);
    res.on("close", () => clearTimeout(timer));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * Whether Redis answers on 127.0.0.1:6379 (the suites that need it say so when it does not). Under CI
 * (CI=true, where .ci/run starts Redis) a missing Redis is an error, not a skip.
 */
export async function redisAvailable(url = process.env.TEST_REDIS_URL ?? "redis://127.0.0.1:6379"): Promise<boolean> {
  const up = await pingRedis(url);
  if (!up && process.env.CI === "true") throw new Error(`Redis is not reachable at ${url}, and CI must test the Redis store`);
  return up;
}

async function pingRedis(url: string): Promise<boolean> {
  const { hostname, port } = new URL(url);
  return await new Promise<boolean>((resolve) => {
    const socket = net.connect({ host: hostname, port: Number(port || 6379) });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(500, () => done(false));
    socket.on("error", () => done(false));
    socket.on("connect", () => socket.write("PING\r\n"));
    socket.on("data", (d) => done(d.toString().startsWith("+PONG")));
  });
}

export const REDIS_URL = process.env.TEST_REDIS_URL ?? "redis://127.0.0.1:6379";
