// The telnyx-webhook function: verifies Telnyx's Ed25519 signature, then
//  - assistant.initialization → {"dynamic_variables": {...}}, always HTTP 200 once authenticated,
//    within the deadline (fallback variables when anything inside fails or is late);
//  - call.conversation.ended → stored once (200), or 503 when it cannot be stored so Telnyx retries;
//  - any other event → 200 {"received": true}.
// Unsigned, forged or stale requests get 401. Webhook log rows are written after the answer, batched.
import { createTtlCache, type TtlCache } from "../cache/ttl-cache.ts";
import type { Sql } from "../db/client.ts";
import { readBody } from "../http/body.ts";
import { AppError, errorResponse } from "../http/errors.ts";
import { jsonResponse } from "../http/respond.ts";
import { type Logger, maskPhone } from "../log/logger.ts";
import { createBatcher } from "../runtime/batcher.ts";
import { requestIdFrom } from "../runtime/request-id.ts";
import { verifyTelnyxSignature } from "../signatures/telnyx.ts";
import { VERSION } from "../version.ts";
import { recordConversationEnded } from "./call-records.ts";
import { loadConfigForCalledNumber, resolveDynamicVariables } from "./dynamic-variables.ts";
import { parseTelnyxEvent, type TelnyxEvent } from "./events.ts";
import { insertWebhookLogs, type NumberConfig, type WebhookLogInput } from "./repository.ts";
import { buildVariables, type LookupStatus } from "./variables.ts";

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
  /** Observes every answer (metrics). */
  onAnswer?: (answer: AnswerRecord) => void;
}

export interface AnswerRecord {
  status: number;
  outcome: string;
  durationMs: number;
  /** Where the number's configuration came from: hit, miss, stale, or none (not looked up). */
  configSource?: string;
  errorCode?: string;
}

export type TelnyxWebhookHandler = ((req: Request) => Promise<Response>) & {
  configCache: TtlCache<string, NumberConfig | null>;
};

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

  const handler = async function handleTelnyxWebhook(req: Request): Promise<Response> {
    const started = performance.now();
    const requestId = requestIdFrom(req);
    const log = logger.child({ request_id: requestId, function: "telnyx-webhook" });
    const elapsed = () => performance.now() - started;

    const finish = (response: Response, entry: LogEntry): Response => {
      const durationMs = elapsed();
      response.headers.set("x-response-time", `${durationMs.toFixed(1)}ms`);
      response.headers.set("x-switchboard-version", VERSION);
      response.headers.set("x-request-id", requestId);
      options.onAnswer?.({
        status: response.status,
        outcome: entry.outcome,
        durationMs,
        configSource: entry.configSource,
        errorCode: entry.errorCode,
      });
      const fields = {
        status: response.status,
        outcome: entry.outcome,
        event_type: entry.eventType,
        event_id: entry.eventId,
        org_id: entry.orgId,
        caller: maskPhone(entry.caller),
        called: maskPhone(entry.called),
        error_code: entry.errorCode,
        config_cache: entry.configSource,
        duration_ms: Math.round(durationMs),
      };
      if (response.status >= 400 || entry.outcome === "error" || entry.outcome === "timeout") {
        log.warn("telnyx webhook answered", { ...fields, error: entry.error });
      } else {
        log.info("telnyx webhook answered", fields);
      }
      webhookLogs.add({
        orgId: entry.orgId ?? null,
        source: "telnyx",
        eventType: entry.eventType ?? null,
        eventId: entry.eventId ?? null,
        requestId,
        statusCode: response.status,
        outcome: entry.outcome,
        durationMs: Math.round(durationMs),
        callerMasked: maskPhone(entry.caller),
        calledMasked: maskPhone(entry.called),
        errorCode: entry.errorCode ?? null,
      });
      return response;
    };

    if (req.method !== "POST") {
      return finish(
        errorResponse(new AppError("METHOD_NOT_ALLOWED", 405, "Use POST", { allow: "POST" }), requestId),
        { outcome: "rejected", errorCode: "METHOD_NOT_ALLOWED" },
      );
    }

    let raw: string;
    try {
      raw = await readBody(req, MAX_BODY_BYTES);
      if (options.insecureSkipVerification) {
        log.warn("signature check skipped: SWITCHBOARD_INSECURE_SKIP_SIGNATURES is set");
      } else {
        await verifyTelnyxSignature(await options.publicKey!, req.headers, raw);
      }
    } catch (error) {
      const code = error instanceof AppError ? error.code : "INTERNAL";
      return finish(errorResponse(error, requestId), { outcome: "rejected", errorCode: code, error });
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
        const budget = options.deadlineMs - ANSWER_MARGIN_MS - elapsed();
        const result = await resolveDynamicVariables({ sql, configCache, now }, event, budget);
        return finish(jsonResponse(telnyxAnswer(result.variables, result.clientId)), {
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
      }
      case "conversation_ended": {
        try {
          const { stored, orgId } = await recordConversationEnded(sql, event);
          return finish(jsonResponse({ received: true, duplicate: !stored }), {
            outcome: stored ? "stored" : "duplicate",
            eventType: "call.conversation.ended",
            eventId: event.eventId,
            orgId,
            caller: event.from,
            called: event.to,
          });
        } catch (error) {
          return finish(
            errorResponse(new AppError("UNAVAILABLE", 503, "Could not store the event; retry later"), requestId),
            { outcome: "error", eventType: "call.conversation.ended", eventId: event.eventId, errorCode: "UNAVAILABLE", error },
          );
        }
      }
      case "other":
        return finish(jsonResponse({ received: true }), {
          outcome: "ignored",
          eventType: event.eventType,
          eventId: event.eventId,
        });
      case "malformed":
        // Authenticated but not what we expect: the assistant still gets usable defaults.
        return finish(jsonResponse(telnyxAnswer(fallbackVariables("error", now()), null)), {
          outcome: "error",
          errorCode: "BAD_EVENT",
          error: new Error(event.problem),
        });
    }
  } as TelnyxWebhookHandler;
  handler.configCache = configCache;
  return handler;
}

interface LogEntry {
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
