// The WhatsApp Cloud API channel, function `whatsapp-webhook`: a thin adapter over the chat pipeline.
//
//   GET  whatsapp-webhook?hub.mode=subscribe&hub.verify_token=…&hub.challenge=…
//        → 200 text/plain <challenge> when the token is WHATSAPP_VERIFY_TOKEN, else 403
//   POST whatsapp-webhook   (X-Hub-Signature-256 over the raw body, WHATSAPP_APP_SECRET)
//        → 200 {"received", "duplicates", ...} as soon as every message is durably in the inbox
//          (one statement per business number, replays ignored by wamid: whatsapp_accept);
//          delivery statuses are recorded; template status updates are handed to the template
//          module when it is there. After the answer, in the background, the messages move into
//          their conversations (whatsapp_process_inbox) and the bot answers them; whatever a killed
//          worker leaves, the sweep finishes. If the database cannot store the event: 503, and
//          Meta retries.
import { createSql, type Sql } from "../db/client.ts";
import { decodeUtf8Body, parseJson, readRawBody } from "../http/body.ts";
import { AppError } from "../http/errors.ts";
import { jsonResponse } from "../http/respond.ts";
import type { Logger } from "../log/logger.ts";
import { describeError, instrumentHandler, type RequestContext } from "../observability/http.ts";
import { metrics } from "../observability/index.ts";
import { createMetricsFlusher } from "../observability/store.ts";
import { runInBackground } from "../runtime/background.ts";
import { createConcurrencyLimit } from "../runtime/concurrency.ts";
import { timingSafeEqual, utf8 } from "../signatures/encoding.ts";
import { verifyMetaSignature } from "../signatures/meta.ts";
import type { ChatConfig } from "../chat/config.ts";
import { buildChatRuntime, type ChatRuntimeDeps } from "../chat/runtime.ts";
import { parseWebhookEvent } from "./events.ts";
import { intakeWhatsApp } from "./inbox.ts";

export const FUNCTION_NAME = "whatsapp-webhook";
/** Meta: "Webhook payloads can be up to 3 MB." */
const MAX_BODY_BYTES = 3 * 1024 * 1024;

export interface WhatsAppWebhookDeps extends ChatRuntimeDeps {
  /** Connections for accepting events (by default a pool of its own; see below). */
  ackSql?: Sql;
  /** Called with message_template_status_update values (the template builder registers it). */
  onTemplateStatus?: (sql: Sql, values: Array<Record<string, unknown>>, logger: Logger) => Promise<number>;
}

async function sameSecret(given: string, expected: string): Promise<boolean> {
  const digest = async (t: string) => new Uint8Array(await crypto.subtle.digest("SHA-256", utf8(t) as BufferSource));
  return timingSafeEqual(await digest(given), await digest(expected));
}

export function buildWhatsAppWebhookHandler(config: ChatConfig, env: Record<string, string | undefined>, logger: Logger, deps: WhatsAppWebhookDeps = {}) {
  const runtime = buildChatRuntime(config, env, logger, deps);
  const { sql, pipeline } = runtime;
  // Accepting an event has connections of its own: the bot's background work (moving messages into
  // conversations, turns, the outbox) never holds up the 200 Meta is waiting for.
  const ackSql = deps.ackSql ?? (deps.sql ? deps.sql : createSql(config.DATABASE_URL, { max: config.WHATSAPP_ACK_DB_CONNECTIONS }));
  const flusher = createMetricsFlusher(sql, { intervalMs: config.METRICS_FLUSH_INTERVAL_MS });
  // Moving accepted messages into their conversations, after the answers: a few events at a time per
  // isolate, the rest wait (in memory, and durably in the inbox, which the sweep reads if this isolate
  // dies). The bot's turns that follow are bounded by the pipeline (CHAT_MAX_CONCURRENT_TURNS).
  const background = createConcurrencyLimit(config.WHATSAPP_BACKGROUND_CONCURRENCY);

  async function verifyHandshake(req: Request): Promise<Response> {
    if (!config.WHATSAPP_VERIFY_TOKEN) {
      throw new AppError("NOT_CONFIGURED", 503, "whatsapp-webhook is not configured: set WHATSAPP_VERIFY_TOKEN");
    }
    const params = new URL(req.url).searchParams;
    const mode = params.get("hub.mode");
    const token = params.get("hub.verify_token") ?? "";
    const challenge = params.get("hub.challenge") ?? "";
    if (mode !== "subscribe" || !challenge || challenge.length > 256 || !(await sameSecret(token, config.WHATSAPP_VERIFY_TOKEN))) {
      throw new AppError("FORBIDDEN", 403, "Verification failed");
    }
    return new Response(challenge, { status: 200, headers: { "content-type": "text/plain" } });
  }

  async function receive(req: Request, ctx: RequestContext): Promise<Response> {
    if (!config.WHATSAPP_APP_SECRET) {
      throw new AppError("NOT_CONFIGURED", 503, "whatsapp-webhook is not configured: set WHATSAPP_APP_SECRET");
    }
    const raw = await readRawBody(req, MAX_BODY_BYTES);
    await verifyMetaSignature(config.WHATSAPP_APP_SECRET, req.headers, raw);
    const payload = parseJson(decodeUtf8Body(raw));
    const event = parseWebhookEvent(payload);
    if ((payload as { object?: unknown })?.object !== "whatsapp_business_account") {
      throw new AppError("INVALID_EVENT", 422, "Not a WhatsApp Business Account event");
    }

    // Accept: the parsed messages go into the inbox, one statement per business number. That is the
    // durable store Meta's 200 promises; moving them into conversations happens after the answer.
    let received = 0;
    let duplicates = 0;
    const unknownNumbers: string[] = [];
    const accepted: number[] = [];
    try {
      for (const [numberId, messages] of event.messages) {
        const [{ result }] = await ackSql`select public.whatsapp_accept(${numberId}, ${ackSql.json(messages as never)}) as result`;
        if (!result?.known) {
          unknownNumbers.push(numberId);
          continue;
        }
        accepted.push(...(result.accepted as number[]));
        received += (result.accepted as number[]).length;
        duplicates += result.duplicates as number;
      }
      if (event.statuses.length) {
        await ackSql`select public.outbox_record_delivery('whatsapp', ${ackSql.json(event.statuses as never)})`;
      }
    } catch (error) {
      const code = (error as { code?: unknown })?.code;
      if (typeof code === "string" && (code.startsWith("22") || code.startsWith("23"))) {
        ctx.logger.warn("event refused by the database", { error: describeError(error) });
        throw new AppError("INVALID_EVENT", 422, "The event could not be stored as sent");
      }
      ctx.logger.error("event not stored", { error: describeError(error) });
      throw new AppError("UNAVAILABLE", 503, "Temporarily unavailable, retry later", { "retry-after": "5" });
    }

    let templates = 0;
    if (event.templateUpdates.length) {
      if (deps.onTemplateStatus) {
        templates = await deps.onTemplateStatus(sql, event.templateUpdates, ctx.logger);
      } else {
        ctx.logger.info("template status updates ignored: no template module", { count: event.templateUpdates.length });
      }
    }
    if (unknownNumbers.length) ctx.logger.warn("messages for an unknown phone_number_id", { phone_number_ids: unknownNumbers });
    if (event.skipped) ctx.logger.warn("webhook elements skipped", { skipped: event.skipped });
    ctx.logFields.received = received;
    ctx.logFields.duplicates = duplicates;
    metrics.event(FUNCTION_NAME, received ? "stored" : duplicates ? "duplicate" : "other");

    // The answer leaves now; the messages reach their conversations and the bot works after it.
    // A worker killed here leaves inbox rows and jobs behind; the sweep finishes both.
    if (accepted.length) {
      runInBackground(async () => {
        const conversations = await background.run(() => intakeWhatsApp(sql, accepted));
        await Promise.all(conversations.map((id) => pipeline.answerConversation(id, ctx.logger, ctx.requestId)));
      }, ctx.logger);
    }
    return jsonResponse({
      received,
      duplicates,
      statuses: event.statuses.length,
      templates,
      ...(unknownNumbers.length ? { unknown_phone_number_ids: unknownNumbers } : {}),
    }, 200);
  }

  return instrumentHandler(FUNCTION_NAME, logger, async (req, ctx) => {
    try {
      let path = new URL(req.url).pathname;
      if (path.startsWith("/functions/v1/")) path = path.slice("/functions/v1".length);
      if (path.replace(/\/+$/, "") !== "/whatsapp-webhook") throw new AppError("NOT_FOUND", 404, "No such route");
      if (req.method === "GET") return await verifyHandshake(req);
      if (req.method === "POST") return await receive(req, ctx);
      throw new AppError("METHOD_NOT_ALLOWED", 405, "Use GET or POST", { allow: "GET, POST" });
    } finally {
      flusher.maybeFlush(ctx.logger);
    }
  });
}
