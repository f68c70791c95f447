// POST /functions/v1/integrations/{integration_id}: signed events from generic integrations.
//
//   1. route and method                       404 NOT_FOUND, 405 METHOD_NOT_ALLOWED
//   2. Content-Type application/json          415 UNSUPPORTED_MEDIA_TYPE
//   3. the integration (cached briefly)       404 NOT_FOUND (unknown or disabled)
//   4. client IP against its allow-list       403 IP_NOT_ALLOWED
//   5. per-IP rate limit                      429 RATE_LIMITED (before the body is read or verified)
//   6. raw body, size-limited                 413 PAYLOAD_TOO_LARGE
//   7. signature over the raw body            401 SIGNATURE_* / TIMESTAMP_*
//   8. per-integration and per-org limits     429 RATE_LIMITED (only authentic requests use the
//                                             tenant's quota, so a forger cannot starve a sender)
//   9. UTF-8, JSON, envelope                  400 INVALID_JSON, 422 INVALID_EVENT
//  10. claim delivery + store event (1 trip)  200 {ok, duplicate, id?}; 503 UNAVAILABLE if the DB fails
import { createTtlCache } from "../cache/ttl-cache.ts";
import type { Sql } from "../db/client.ts";
import { createSql } from "../db/client.ts";
import type { Env } from "../config/env.ts";
import { AppError } from "../http/errors.ts";
import { jsonResponse } from "../http/respond.ts";
import { createLogger, type Logger } from "../log/logger.ts";
import { type AllowList, isAllowed, parseAllowList } from "../net/allowlist.ts";
import { createClientIpResolver } from "../net/client-ip.ts";
import { decodeUtf8Body, parseJson, readRawBody, requireJsonContentType } from "../http/body.ts";
import { metrics } from "../observability/index.ts";
import { describeError, instrumentHandler } from "../observability/http.ts";
import { createMetricsFlusher } from "../observability/store.ts";
import { createRateLimiter, createRateLimitStore, type RateLimitDecision, rateLimitHeaders, type RateLimiter } from "../ratelimit/index.ts";
import { isStandardWebhookSecret, LEGACY_MIN_SECRET_LENGTH, verifyHmacScheme } from "../signatures/index.ts";
import { type IntegrationsConfig, parseIntegrationsConfig } from "./config.ts";
import { parseEnvelope } from "./envelope.ts";
import { ingestEvent, type IntegrationRecord, loadIntegration } from "./store.ts";

export const FUNCTION_NAME = "integrations";
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface IntegrationsDeps {
  /** A database client (tests pass theirs); by default one is made from the URL in env. */
  sql?: Sql;
  logger?: Logger;
  /** Unix seconds now, for signature windows (tests). */
  nowSeconds?: () => number;
  limiter?: RateLimiter;
}

interface Prepared {
  record: IntegrationRecord;
  allowList: AllowList | null;
  usable: boolean;
}

/** The integration id from /integrations/{id} (with or without the /functions/v1 prefix). */
export function integrationIdFromPath(url: string): string | null {
  let path: string;
  try {
    path = new URL(url).pathname;
  } catch {
    return null;
  }
  if (path.startsWith("/functions/v1/")) path = path.slice("/functions/v1".length);
  const m = /^\/integrations\/([^/]+)\/?$/.exec(path);
  return m && UUID.test(m[1]) ? m[1].toLowerCase() : null;
}

function prepare(record: IntegrationRecord, logger: Logger): Prepared {
  let allowList: AllowList | null = null;
  let usable = true;
  try {
    allowList = parseAllowList(record.allowed_ips ?? []);
  } catch {
    usable = false;
  }
  if (record.scheme === "standard-webhooks" ? !isStandardWebhookSecret(record.secret) : record.secret.length < LEGACY_MIN_SECRET_LENGTH) {
    usable = false;
  }
  if (!usable) logger.error("integration misconfigured", { integration_id: record.id });
  return { record, allowList, usable };
}

function refuse(decision: RateLimitDecision, all: RateLimitDecision[]): never {
  throw new AppError("RATE_LIMITED", 429, `Rate limit exceeded (${decision.exceededScope})`, rateLimitHeaders(all));
}

export function buildIntegrationsHandler(env: Env, deps: IntegrationsDeps = {}): (req: Request) => Promise<Response> {
  const logger = deps.logger ?? createLogger({}, { level: (env.LOG_LEVEL as "info") ?? "info" });
  let config: IntegrationsConfig;
  try {
    config = parseIntegrationsConfig(env);
  } catch (error) {
    // Fail closed with a clear message: every request is refused until the settings are fixed.
    logger.error("integrations function is not configured", { error: (error as Error).message });
    return instrumentHandler(FUNCTION_NAME, logger, () => {
      throw new AppError("NOT_CONFIGURED", 503, "The integrations function is not configured");
    });
  }
  const sql = deps.sql ?? createSql(config.DATABASE_URL, { max: 4 });
  const limiter = deps.limiter ?? createRateLimiter({
    store: createRateLimitStore(config.RATE_LIMIT_STORE, { sql, redisUrl: config.REDIS_URL }),
    windowSeconds: 60,
    budgetMs: config.RATE_LIMIT_STORE_BUDGET_MS,
    logger,
  });
  const resolveIp = createClientIpResolver({ header: config.TRUSTED_IP_HEADER, hop: config.TRUSTED_IP_HOP });
  const flusher = createMetricsFlusher(sql, { intervalMs: config.METRICS_FLUSH_INTERVAL_MS });
  const nowSeconds = deps.nowSeconds ?? (() => Math.floor(Date.now() / 1000));
  // A short-lived cache of integrations (shared/cache/ttl-cache.ts: single-flight, bounded): never
  // needed for correctness (a fresh isolate reads the database), it spares a round trip per request.
  // A disabled or rotated integration takes effect within INTEGRATION_CACHE_TTL_MS.
  const loadPrepared = async (id: string): Promise<Prepared | null> => {
    const record = await loadIntegration(sql, id);
    return record ? prepare(record, logger) : null;
  };
  const cache = config.INTEGRATION_CACHE_TTL_MS > 0
    ? createTtlCache<string, Prepared | null>({ load: loadPrepared, ttlMs: config.INTEGRATION_CACHE_TTL_MS, maxEntries: 1000 })
    : null;

  async function integration(id: string, log: Logger): Promise<Prepared | null> {
    try {
      if (!cache) return await loadPrepared(id);
      const { value, source } = await cache.get(id);
      metrics.cacheHit("integration", source === "hit");
      return value;
    } catch (error) {
      log.error("integration lookup failed", { error: describeError(error) });
      throw new AppError("UNAVAILABLE", 503, "Temporarily unavailable, retry later", { "retry-after": "5" });
    }
  }

  return instrumentHandler(FUNCTION_NAME, logger, async (req, ctx) => {
    try {
      const id = integrationIdFromPath(req.url);
      if (!id) throw new AppError("NOT_FOUND", 404, "No such integration");
      if (req.method !== "POST") {
        throw new AppError("METHOD_NOT_ALLOWED", 405, "Use POST", { allow: "POST" });
      }
      requireJsonContentType(req);
      ctx.logFields.integration_id = id;

      const prepared = await integration(id, ctx.logger);
      if (!prepared || !prepared.record.enabled) throw new AppError("NOT_FOUND", 404, "No such integration");
      if (!prepared.usable || !prepared.allowList) {
        throw new AppError("NOT_CONFIGURED", 503, "This integration is misconfigured");
      }
      const { record } = prepared;

      const ip = resolveIp(req);
      if (!isAllowed(prepared.allowList, ip?.address ?? null)) {
        throw new AppError("IP_NOT_ALLOWED", 403, "This address may not call this integration");
      }

      const decisions: RateLimitDecision[] = [];
      if (ip && config.RATE_LIMIT_IP_PER_MINUTE > 0) {
        const byIp = await limiter.check([{ scope: "ip", key: ip.text, limit: config.RATE_LIMIT_IP_PER_MINUTE }]);
        decisions.push(byIp);
        if (!byIp.allowed) {
          metrics.rateLimited(FUNCTION_NAME, "ip");
          refuse(byIp, decisions);
        }
      }

      const body = await readRawBody(req, config.INTEGRATION_MAX_BODY_BYTES);
      const verified = await verifyHmacScheme(record.scheme, record.secret, req.headers, body, {
        nowSeconds: nowSeconds(),
        toleranceSeconds: config.SIGNATURE_TOLERANCE_SECONDS,
      });

      const tenant = await limiter.check([
        { scope: "integration", key: record.id, limit: record.rate_limit_per_minute },
        ...(config.RATE_LIMIT_ORG_PER_MINUTE > 0
          ? [{ scope: "org", key: record.org_id, limit: config.RATE_LIMIT_ORG_PER_MINUTE }]
          : []),
      ]);
      decisions.push(tenant);
      ctx.logFields.rate_limit_store = tenant.decidedBy;
      if (!tenant.allowed) {
        metrics.rateLimited(FUNCTION_NAME, tenant.exceededScope ?? "integration");
        refuse(tenant, decisions);
      }

      const event = parseEnvelope(parseJson(decodeUtf8Body(body)), config.INTEGRATION_MAX_JSON_DEPTH);
      ctx.logFields.event_type = event.type;

      let result;
      try {
        result = await ingestEvent(sql, {
          integrationId: record.id,
          event,
          deliveryId: verified.deliveryId,
          requestId: ctx.requestId,
          replayTtlSeconds: config.REPLAY_TTL_SECONDS,
        });
      } catch (error) {
        const code = (error as { code?: unknown })?.code;
        // Data the database refuses (class 22, 23) is the sender's problem; anything else is ours.
        if (typeof code === "string" && (code.startsWith("22") || code.startsWith("23"))) {
          ctx.logger.warn("event refused by the database", { error: describeError(error) });
          throw new AppError("INVALID_EVENT", 422, "The event could not be stored as sent");
        }
        ctx.logger.error("event not stored", { error: describeError(error) });
        throw new AppError("UNAVAILABLE", 503, "Temporarily unavailable, retry later", { "retry-after": "5" });
      }
      if ("missing" in result) throw new AppError("NOT_FOUND", 404, "No such integration");
      metrics.event(FUNCTION_NAME, result.duplicate ? "duplicate" : "stored");
      ctx.logFields.duplicate = result.duplicate;
      return jsonResponse(
        result.duplicate ? { ok: true, duplicate: true } : { ok: true, duplicate: false, id: result.id },
        200,
        rateLimitHeaders(decisions),
      );
    } finally {
      flusher.maybeFlush(ctx.logger);
    }
  });
}
