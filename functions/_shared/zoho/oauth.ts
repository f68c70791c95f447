// Zoho API calls with an OAuth access token that refreshes itself, per organisation and product.
//
//   const zoho = createZohoClient({ sql, config, logger });
//   const res = await zoho.request(orgId, "desk", (token, s) => ({ url: `${s.deskApiUrl}/api/v1/calls`, init: {...} }));
//
// The access token is cached in the isolate and in zoho_credentials (sealed). A request that meets
// an invalid token (401; 400 or 200 with Zoho's invalid-token body, which the replaced system saw)
// refreshes once and is sent again once. A refresh is single-flight across isolates: the database
// hands one caller a lease (zoho_refresh_begin); the others wait for its token instead of spending
// Zoho's quota (about 10 refreshes per 10 minutes per refresh token). A refresh Zoho refuses (even
// with HTTP 200 and {"error": ...}) is a failure, remembered briefly so that waiters do not retry it
// at once. Tokens never reach a log line or an error message.
import type { Sql } from "../db/client.ts";
import type { Logger } from "../log/logger.ts";
import { createOutboundPolicy, type OutboundPolicy, type OutboundResponse } from "../resilience/policy.ts";
import { effectiveSettings, type ZohoConfig, type ZohoProduct, type ZohoSettingsRow } from "./config.ts";
import { lazySealer, type Sealer } from "./sealing.ts";

/** A failure to obtain a token; `code` is safe to log and to store as an outbox error. */
export class ZohoAuthError extends Error {
  constructor(readonly code: string, readonly retryable: boolean) {
    super(`zoho auth: ${code}`);
    this.name = "ZohoAuthError";
  }
}

export type EffectiveSettings = ReturnType<typeof effectiveSettings>;

export interface ZohoRequest {
  url: string;
  init: RequestInit;
}

interface CachedToken {
  token: string;
  version: number;
  expiresAt: number;
}

export interface ZohoClientOptions {
  sql: Sql;
  config: ZohoConfig;
  logger: Logger;
  /** The outbound policy per product (tests may pass their own). */
  policies?: Partial<Record<ZohoProduct, OutboundPolicy>>;
  /** How long a waiter waits for another caller's refresh before giving up. Default 10 s. */
  refreshWaitMs?: number;
  now?: () => number;
}

/** Zoho's invalid-token answers: Desk's errorCode INVALID_OAUTH, SalesIQ's and accounts' wording. */
export function isInvalidTokenResponse(res: { status: number; text: string }): boolean {
  if (res.status === 401) return true;
  if (res.status !== 400 && res.status !== 200) return false;
  if (res.text.length > 4096) return false;
  let body: unknown;
  try {
    body = JSON.parse(res.text);
  } catch {
    return false;
  }
  const parts: string[] = [];
  const collect = (v: unknown) => {
    if (typeof v === "string" || typeof v === "number") parts.push(String(v));
  };
  const b = body as Record<string, unknown> | null;
  if (!b || typeof b !== "object") return false;
  collect(b.errorCode);
  collect(b.code);
  collect(b.message);
  const err = b.error as Record<string, unknown> | string | undefined;
  if (typeof err === "string") collect(err);
  else if (err && typeof err === "object") {
    collect(err.code);
    collect(err.message);
  }
  const text = parts.join(" ");
  return /INVALID_OAUTH|invalid[ _-]?oauth|invalid[ _-]?token|oauth ?token (is )?(invalid|expired)|token (has )?expired|AUTHENTICATION_FAILURE/i.test(text);
}

/** expires_in may be seconds or (older Zoho products) milliseconds; expires_in_sec wins when present. */
export function expiresInSeconds(body: Record<string, unknown>): number {
  const sec = Number(body.expires_in_sec);
  if (Number.isFinite(sec) && sec > 0) return sec;
  const raw = Number(body.expires_in);
  if (!Number.isFinite(raw) || raw <= 0) return 3600;
  return raw > 86_400 ? Math.round(raw / 1000) : raw;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function createZohoClient(options: ZohoClientOptions) {
  const { sql, config, logger } = options;
  const now = options.now ?? (() => Date.now());
  const refreshWaitMs = options.refreshWaitMs ?? 10_000;
  const sealer = lazySealer(sql, config.encryptionKey);
  const cache = new Map<string, CachedToken>();
  // One attempt per call: creating a Desk call or answering a SalesIQ callback is not idempotent, so
  // a lost answer must not be retried blindly here. The outbox retries later, with backoff, after
  // looking for what the lost attempt may have done.
  const policies: Record<ZohoProduct | "accounts", OutboundPolicy> = {
    salesiq: options.policies?.salesiq ?? createOutboundPolicy({ name: "zoho-salesiq", timeoutMs: config.httpTimeoutMs, maxAttempts: 1, logger }),
    desk: options.policies?.desk ?? createOutboundPolicy({ name: "zoho-desk", timeoutMs: config.httpTimeoutMs, maxAttempts: 1, logger }),
    // A refresh is not retried inside the policy: a second attempt would spend quota.
    accounts: createOutboundPolicy({ name: "zoho-accounts", timeoutMs: config.httpTimeoutMs, maxAttempts: 1, logger }),
  };
  const envCredentials = (product: ZohoProduct) => (product === "salesiq" ? config.salesiq : config.desk);
  const context = (orgId: string, product: ZohoProduct, what: string) => `${orgId}:${product}:${what}`;

  async function openOrNull(s: Sealer | null, sealed: unknown, ctx: string): Promise<string | undefined> {
    if (typeof sealed !== "string" || !sealed || !s) return undefined;
    return await s.open(sealed, ctx);
  }

  /** The current token and the organisation's settings. */
  async function current(orgId: string, product: ZohoProduct): Promise<{ token: CachedToken | null; settings: EffectiveSettings }> {
    const [{ row }] = await sql`select public.zoho_token_get(${orgId}::uuid, ${product}) as row`;
    const settings = effectiveSettings(config, row.settings as ZohoSettingsRow | null);
    const key = `${orgId}:${product}`;
    const cached = cache.get(key);
    if (cached && cached.version >= row.token_version && cached.expiresAt > now() + 30_000) return { token: cached, settings };
    const expiresAt = row.access_expires_at ? Date.parse(row.access_expires_at) : 0;
    if (row.access_token_sealed && expiresAt > now() + 30_000) {
      const token = await openOrNull(await sealer(), row.access_token_sealed, context(orgId, product, "access"));
      if (token) {
        const t = { token, version: row.token_version as number, expiresAt };
        cache.set(key, t);
        return { token: t, settings };
      }
    }
    // Before any refresh, the environment's access token (SALESIQ_ACCESS_TOKEN / DESK_ACCESS_TOKEN).
    const envToken = envCredentials(product).accessToken;
    if (row.token_version === 0 && envToken) return { token: { token: envToken, version: 0, expiresAt: Infinity }, settings };
    return { token: null, settings };
  }

  /** Refreshes (or waits for whoever is refreshing) after version `seen` was found unusable. */
  async function refresh(orgId: string, product: ZohoProduct, seen: number, settings: EffectiveSettings, requestId?: string): Promise<CachedToken> {
    const key = `${orgId}:${product}`;
    const deadline = now() + refreshWaitMs;
    let delay = 50;
    for (;;) {
      const [{ r }] = await sql`select public.zoho_refresh_begin(${orgId}::uuid, ${product}, ${seen}::int, 15) as r`;
      if (r.state === "fresh") {
        const token = await openOrNull(await sealer(), r.access_token_sealed, context(orgId, product, "access"));
        if (!token) throw new ZohoAuthError("token_unreadable", false);
        const t = { token, version: r.token_version, expiresAt: r.access_expires_at ? Date.parse(r.access_expires_at) : Infinity };
        cache.set(key, t);
        return t;
      }
      if (r.state === "failed") throw new ZohoAuthError(`refresh_failed_recently: ${String(r.error ?? "").slice(0, 80)}`, true);
      if (r.state === "quota") throw new ZohoAuthError("refresh_quota_reached", true);
      if (r.state === "wait") {
        if (now() > deadline) throw new ZohoAuthError("refresh_wait_timeout", true);
        await sleep(delay);
        delay = Math.min(400, delay * 2);
        continue;
      }
      // state === "refresh": this caller holds the lease.
      const lease = r.lease as string;
      try {
        const s = await sealer();
        const env = envCredentials(product);
        const clientId = (r.client_id as string | null) || env.clientId;
        const clientSecret = (await openOrNull(s, r.client_secret_sealed, context(orgId, product, "client_secret"))) ?? env.clientSecret;
        const refreshToken = (await openOrNull(s, r.refresh_token_sealed, context(orgId, product, "refresh"))) ?? env.refreshToken;
        if (!clientId || !clientSecret || !refreshToken) throw new ZohoAuthError("not_configured: no client or refresh token", false);
        const fresh = await callAccounts(settings.accountsUrl, clientId, clientSecret, refreshToken, requestId);
        const expiresAt = now() + Math.max(60, fresh.expiresIn - 60) * 1000; // a minute early
        if (!s) {
          // Nowhere safe to store it: this isolate keeps it, and nothing is written.
          await sql`select public.zoho_refresh_fail(${orgId}::uuid, ${product}, ${lease}::uuid, 'no_sealing_key')`;
          const t = { token: fresh.token, version: seen + 1, expiresAt };
          cache.set(key, t);
          logger.warn("zoho token refreshed but not stored: set ZOHO_TOKEN_ENCRYPTION_KEY", { product });
          return t;
        }
        const sealed = await s.seal(fresh.token, context(orgId, product, "access"));
        const [{ version }] = await sql`
          select public.zoho_refresh_complete(${orgId}::uuid, ${product}, ${lease}::uuid, ${sealed},
            ${new Date(expiresAt).toISOString()}::timestamptz) as version`;
        const t = { token: fresh.token, version: typeof version === "number" ? version : seen + 1, expiresAt };
        cache.set(key, t);
        logger.info("zoho token refreshed", { product, org_id: orgId, token_version: t.version });
        return t;
      } catch (error) {
        const code = error instanceof ZohoAuthError ? error.code : (error as Error)?.name ?? "error";
        await sql`select public.zoho_refresh_fail(${orgId}::uuid, ${product}, ${lease}::uuid, ${code})`.catch(() => {});
        throw error instanceof ZohoAuthError ? error : new ZohoAuthError(`refresh_unreachable: ${code}`, true);
      }
    }
  }

  /** POST {accounts}/oauth/v2/token, grant_type=refresh_token. A body with "error" is a failure, whatever the status. */
  async function callAccounts(accountsUrl: string, clientId: string, clientSecret: string, refreshToken: string, requestId?: string) {
    const form = new URLSearchParams({ grant_type: "refresh_token", client_id: clientId, client_secret: clientSecret, refresh_token: refreshToken });
    let res: OutboundResponse;
    try {
      res = await policies.accounts.fetch(`${accountsUrl}/oauth/v2/token`, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: form.toString(),
      }, { requestId, maxResponseBytes: 16 * 1024 });
    } catch (error) {
      throw new ZohoAuthError(`accounts_unreachable: ${(error as Error)?.name ?? "error"}`, true);
    }
    let body: Record<string, unknown> = {};
    try {
      body = JSON.parse(res.text);
    } catch {
      throw new ZohoAuthError(`accounts_bad_response: http ${res.status}`, res.status >= 500);
    }
    if (body.error !== undefined || res.status >= 400 || typeof body.access_token !== "string" || !body.access_token) {
      const reason = typeof body.error === "string" ? body.error.replace(/[^A-Za-z0-9_ .-]/g, "").slice(0, 60) : `http ${res.status}`;
      throw new ZohoAuthError(`refresh_refused: ${reason}`, res.status >= 500);
    }
    return { token: body.access_token as string, expiresIn: expiresInSeconds(body) };
  }

  return {
    /**
     * Sends the request `build` makes with the organisation's token; on an invalid token, refreshes
     * once and sends it once more. 429/5xx and network failures are retried by the product's policy
     * and then thrown (RetryableHttpError, BrokenCircuitError, ...).
     */
    async request(
      orgId: string,
      product: ZohoProduct,
      build: (token: string, settings: EffectiveSettings) => ZohoRequest,
      opts: { requestId?: string; maxResponseBytes?: number } = {},
    ): Promise<OutboundResponse & { settings: EffectiveSettings; refreshed: boolean }> {
      const { token: found, settings } = await current(orgId, product);
      const token = found ?? await refresh(orgId, product, -1, settings, opts.requestId);
      const send = async (t: CachedToken) => {
        const req = build(t.token, settings);
        const headers = new Headers(req.init.headers);
        headers.set("authorization", `Zoho-oauthtoken ${t.token}`);
        return await policies[product].fetch(req.url, { ...req.init, headers }, { requestId: opts.requestId, maxResponseBytes: opts.maxResponseBytes ?? 256 * 1024 });
      };
      const first = await send(token);
      if (!isInvalidTokenResponse(first)) return { ...first, settings, refreshed: !found };
      cache.delete(`${orgId}:${product}`);
      const renewed = await refresh(orgId, product, token.version, settings, opts.requestId);
      const second = await send(renewed);
      return { ...second, settings, refreshed: true };
    },

    /** Stores an organisation's own OAuth client and refresh token, sealed. */
    async storeCredentials(orgId: string, product: ZohoProduct, clientId: string, clientSecret: string, refreshToken: string) {
      const s = await sealer();
      if (!s) throw new ZohoAuthError("not_configured: no sealing key (ZOHO_TOKEN_ENCRYPTION_KEY or Vault)", false);
      await sql`select public.zoho_store_credentials(${orgId}::uuid, ${product}, ${clientId},
        ${await s.seal(clientSecret, context(orgId, product, "client_secret"))},
        ${await s.seal(refreshToken, context(orgId, product, "refresh"))})`;
      cache.delete(`${orgId}:${product}`);
    },

    /** Forgets this isolate's cached tokens (tests play several isolates in one process). */
    forget() {
      cache.clear();
    },
  };
}

export type ZohoClient = ReturnType<typeof createZohoClient>;
