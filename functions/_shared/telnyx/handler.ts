// The telnyx-webhook function: verifies Telnyx's Ed25519 signature, then
//  - assistant.initialization → {"dynamic_variables": {...}}, always HTTP 200 once authenticated,
//    within the deadline (fallback variables when anything inside fails or is late);
//  - call.conversation.ended → stored once (200), or 503 when it cannot be stored so Telnyx retries;
//  - any other event → 200 {"received": true}.
// Unsigned, forged or stale requests get 401 (and a log line, but no database write: a forger must
// not be able to make us write). Authenticated requests get a webhook_logs row after the answer,
// batched. Request ids, the access log line, metrics and the timing and version headers come from
// instrumentHandler, as for every function.
import { createTtlCache, type TtlCache } from "../cache/ttl-cache.ts";
import type { Sql } from "../db/client.ts";
import { readBody } from "../http/body.ts";
import { AppError } from "../http/errors.ts";
import { jsonResponse } from "../http/respond.ts";
import { type Logger, maskPhone } from "../log/logger.ts";
import { metrics } from "../observability/index.ts";
import { describeError, instrumentHandler, type RequestContext } from "../observability/http.ts";
import { createBatcher } from "../runtime/batcher.ts";
import { verifyTelnyxSignature } from "../signatures/telnyx.ts";
import { recordConversationEnded } from "./call-records.ts";
import { loadConfigForCalledNumber, resolveDynamicVariables } from "./dynamic-variables.ts";
import { parseTelnyxEvent, type TelnyxEvent } from "./events.ts";
import { insertWebhookLogs, type NumberConfig, type WebhookLogInput } from "./repository.ts";
import { buildVariables, type LookupStatus } from "./variables.ts";

const FUNCTION_NAME = "telnyx-webhook";
/** Telnyx events are small; anything bigger is not one. */
const MAX_BODY_BYTES = 64 * 1024;
/** Kept back from the deadline for building and sending the answer. */
const ANSWER_MARGIN_MS = 150;
/** How long "this number is unknown" is remembered: short, so a number added now works soon. */
const NEGATIVE_CACHE_TTL_MS = 60_000;

export interface TelnyxWebhookOptions {
  sql: Sql;
  /** Resolves to the verification key; null only with insecureSkipVerification. */
  publicKey: Promise<CryptoKey> | null;
  insecureSkipVerification?: boolean;
  deadlineMs: number;
  configCacheTtlMs: number;
  logger: Logger;
  now?: () => Date;
  /** Called after every request, e.g. to flush metrics (observability/store.ts). */
  afterRequest?: (logger: Logger) => void;
}

export type TelnyxWebhookHandler = ((req: Request) => Promise<Response>) & {
  configCache: TtlCache<string, NumberConfig | null>;
};

/** What an authenticated request did, for the access log line and its webhook_logs row. */
interface Outcome {
  outcome: string;
  eventType?: string | null;
  eventId?: string | null;
  orgId?: string | null;
  caller?: string | null;
  called?: string | null;
  configSource?: string;
  errorCode?: string;
  error?: unknown;
}

export function createTelnyxWebhookHandler(options: TelnyxWebhookOptions): TelnyxWebhookHandler {
  if (!options.sql) throw new Error("createTelnyxWebhookHandler: sql is required");
  if (!options.publicKey && !options.insecureSkipVerification) {
    throw new Error("createTelnyxWebhookHandler: a public key is required");
  }
  if (!(options.deadlineMs >= 100)) throw new Error("createTelnyxWebhookHandler: deadlineMs must be at least 100");
  const { sql, logger } = options;
  const now = options.now ?? (() => new Date());
  const configCache = createTtlCache<string, NumberConfig | null>({
    load: (called) => loadConfigForCalledNumber(sql, called),
    ttlMs: options.configCacheTtlMs,
    negativeTtlMs: Math.min(NEGATIVE_CACHE_TTL_MS, options.configCacheTtlMs),
    isNegative: (value) => value === null,
  });
  const webhookLogs = createBatcher<WebhookLogInput>({ write: (rows) => insertWebhookLogs(sql, rows), logger });

  /** Notes what happened on the access log line and queues the webhook_logs row. */
  function record(ctx: RequestContext, status: number, o: Outcome): void {
    Object.assign(ctx.logFields, {
      outcome: o.outcome,
      event_type: o.eventType ?? null,
      event_id: o.eventId ?? null,
      org_id: o.orgId ?? null,
      caller: maskPhone(o.caller),
      called: maskPhone(o.called),
      ...(o.configSource ? { config_cache: o.configSource } : {}),
      ...(o.errorCode ? { error_code: o.errorCode } : {}),
      ...(o.error ? { error: describeError(o.error) } : {}),
    });
    if (o.outcome === "timeout" || o.outcome === "error") {
      ctx.logger.warn("answered with fallback variables", { outcome: o.outcome, error_code: o.errorCode });
    }
    if (o.configSource && o.configSource !== "none") metrics.cacheHit("dispatcher_config", o.configSource === "hit");
    webhookLogs.add({
      orgId: o.orgId ?? null,
      source: "telnyx",
      eventType: o.eventType ?? null,
      eventId: o.eventId ?? null,
      requestId: ctx.requestId,
      statusCode: status,
      outcome: o.outcome,
      durationMs: Math.round(performance.now() - ctx.startedAt),
      callerMasked: maskPhone(o.caller),
      calledMasked: maskPhone(o.called),
      errorCode: o.errorCode ?? null,
    });
  }

  async function handle(req: Request, ctx: RequestContext): Promise<Response> {
    if (req.method !== "POST") throw new AppError("METHOD_NOT_ALLOWED", 405, "Use POST", { allow: "POST" });
    const raw = await readBody(req, MAX_BODY_BYTES);
    if (options.insecureSkipVerification) {
      ctx.logger.warn("signature check skipped: SWITCHBOARD_INSECURE_SKIP_SIGNATURES is set");
    } else {
      await verifyTelnyxSignature(await options.publicKey!, req.headers, raw);
    }

    // From here on the request is authenticated: answer 200 unless a state change could not be kept.
    let event: TelnyxEvent;
    try {
      event = parseTelnyxEvent(JSON.parse(raw));
    } catch {
      event = { kind: "malformed", problem: "body is not JSON" };
    }

    switch (event.kind) {
      case "initialization": {
        const budget = options.deadlineMs - ANSWER_MARGIN_MS - (performance.now() - ctx.startedAt);
        const result = await resolveDynamicVariables({ sql, configCache, now }, event, budget);
        record(ctx, 200, {
          outcome: result.status,
          eventType: "assistant.initialization",
          eventId: event.eventId,
          orgId: result.orgId,
          caller: event.callerNumber,
          called: event.calledNumber,
          configSource: result.configSource,
          errorCode: result.status === "error" ? "LOOKUP_FAILED" : result.status === "timeout" ? "DEADLINE" : undefined,
          error: result.error,
        });
        // A 200 that carried defaults because the lookup failed or was late is our failure: the
        // alert rule telnyx_error_rate counts it (5xx answers are counted by their status).
        if (result.status === "timeout" || result.status === "error") metrics.degraded(FUNCTION_NAME, result.status);
        return jsonResponse(telnyxAnswer(result.variables, result.clientId));
      }
      case "conversation_ended": {
        const about = { eventType: "call.conversation.ended", eventId: event.eventId, caller: event.from, called: event.to };
        let stored: { stored: boolean; orgId: string | null };
        try {
          stored = await recordConversationEnded(sql, event);
        } catch (error) {
          record(ctx, 503, { ...about, outcome: "error", errorCode: "UNAVAILABLE", error });
          throw new AppError("UNAVAILABLE", 503, "Could not store the event; retry later", { "retry-after": "5" });
        }
        record(ctx, 200, { ...about, outcome: stored.stored ? "stored" : "duplicate", orgId: stored.orgId });
        return jsonResponse({ received: true, duplicate: !stored.stored });
      }
      case "other":
        record(ctx, 200, { outcome: "ignored", eventType: event.eventType, eventId: event.eventId });
        return jsonResponse({ received: true });
      case "malformed":
        // Authenticated but not what we expect: the assistant still gets usable defaults.
        record(ctx, 200, { outcome: "error", errorCode: "BAD_EVENT", error: new Error(event.problem) });
        return jsonResponse(telnyxAnswer(fallbackVariables("error", now()), null));
    }
  }

  const handler = instrumentHandler(FUNCTION_NAME, logger, async (req, ctx) => {
    try {
      return await handle(req, ctx);
    } finally {
      options.afterRequest?.(ctx.logger);
    }
  }) as TelnyxWebhookHandler;
  handler.configCache = configCache;
  return handler;
}

export function fallbackVariables(status: LookupStatus, now: Date): Record<string, string> {
  return buildVariables({ now, number: null, caller: null, status });
}

function telnyxAnswer(variables: Record<string, string>, clientId: string | null) {
  // Telnyx ignores a flat object: the variables must sit under "dynamic_variables".
  return {
    dynamic_variables: variables,
    ...(clientId ? { conversation: { metadata: { switchboard_client_id: clientId } } } : {}),
  };
}
