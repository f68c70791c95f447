// The Zoho SalesIQ channel, function `salesiq-webhook`: SalesIQ's Zobot "Webhook" platform calls
//
//   POST salesiq-webhook/{webhook_key}   (x-siqsignature when a public key is configured)
//   HEAD|GET salesiq-webhook/{webhook_key} → 200 (SalesIQ's check when the URL is saved)
//
// with handler "trigger" (a visitor arrived: the greeting), "message" or "context" (a visitor said
// something). A message is stored first (the conversation is SalesIQ's conversation id, channel
// 'salesiq'; the message is idempotent on SalesIQ's request id), then answered by the chat pipeline
// within SALESIQ_REPLY_BUDGET_MS (SalesIQ waits about 5 s): the replies go back in the HTTP answer
// ("reply" with the buttons as suggestions, "forward" to the department after a hand-over). A slower
// bot (an LLM) gets "pending" and the replies follow through SalesIQ's callbacks API, by the outbox.
// A replayed request stores nothing and gets the same answer. A close (bot, agent, abandonment)
// calls SalesIQ's close API; a callback is filed in Zoho Desk; both through the outbox.
import type { Sql } from "../db/client.ts";
import { decodeUtf8Body, parseJson, readRawBody } from "../http/body.ts";
import { AppError } from "../http/errors.ts";
import { jsonResponse } from "../http/respond.ts";
import type { Logger } from "../log/logger.ts";
import { describeError, instrumentHandler, type RequestContext } from "../observability/http.ts";
import { metrics } from "../observability/index.ts";
import { createMetricsFlusher } from "../observability/store.ts";
import { runInBackground } from "../runtime/background.ts";
import { withinBudget } from "../runtime/deadline.ts";
import { languagePack } from "../chat/brain/language.ts";
import { AGENT_MODE, normalizeButtons, SCHEDULE_CALLBACK } from "../chat/buttons.ts";
import type { ChatConfig } from "../chat/config.ts";
import type { TurnOutcome } from "../chat/pipeline.ts";
import { buildChatRuntime, type ChatRuntimeDeps } from "../chat/runtime.ts";
import type { Button, OrgProfile } from "../chat/types.ts";
import { parseSalesIqEvent, replyResponse, type SalesIqResponse, verifySalesIqSignature } from "./salesiq.ts";

export const FUNCTION_NAME = "salesiq-webhook";
const MAX_BODY_BYTES = 256 * 1024;
/** What the visitor sees while a slow answer is on its way. */
const PENDING_LINE = "One moment, please…";

interface KeySettings {
  org_id: string;
  salesiq_enabled: boolean;
  salesiq_org_id: string | null;
  salesiq_public_key: string | null;
  salesiq_department: string | null;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Stored replies to a customer message with their outbox rows, and whether its turn handed over. */
async function storedAnswer(sql: Sql, messageId: number) {
  const [row] = await sql`
    select coalesce(jsonb_agg(jsonb_build_object('body', m.body, 'metadata', m.metadata, 'outbox_id', o.id,
             'outbox_status', o.status, 'inline', coalesce(o.provider_message_id like 'inline:%', false)) order by m.created_at, m.id) filter (where m.id is not null), '[]'::jsonb) as replies,
           exists (select 1 from public.conversation_actions a where a.message_id = ${messageId}::bigint
                   and a.type = 'handoff_requested' and a.changed) as forwarded,
           exists (select 1 from public.inbound_jobs j where j.message_id = ${messageId}::bigint) as unanswered
    from public.messages m
    left join public.outbox o on o.message_id = m.id
    where m.sender_type = 'bot' and m.metadata ->> 'reply_to' = ${String(messageId)}`;
  return row as {
    replies: Array<{ body: string; metadata: Record<string, unknown>; outbox_id: number | null; outbox_status: string | null; inline: boolean }>;
    forwarded: boolean;
    unanswered: boolean;
  };
}

export function buildSalesIqWebhookHandler(config: ChatConfig, env: Record<string, string | undefined>, logger: Logger, deps: ChatRuntimeDeps = {}) {
  const runtime = buildChatRuntime(config, env, logger, deps);
  const { sql, pipeline, outbox, zohoConfig } = runtime;
  const flusher = createMetricsFlusher(sql, { intervalMs: config.METRICS_FLUSH_INTERVAL_MS });
  const budgetMs = zohoConfig.replyBudgetMs;

  function department(settings: KeySettings): string | null {
    return settings.salesiq_department || zohoConfig.salesiq.department || null;
  }

  async function greeting(orgId: string, name: string | null): Promise<SalesIqResponse> {
    const [{ profile }] = await sql`select public.chat_org_profile(${orgId}::uuid) as profile`;
    const p = profile as OrgProfile;
    const pack = languagePack(p.settings.language);
    const buttons = normalizeButtons([
      { id: AGENT_MODE, title: pack.lines.buttons.agent },
      { id: SCHEDULE_CALLBACK, title: pack.lines.buttons.callback },
    ]);
    return replyResponse([pack.lines.greeting({ company: p.company_name, agent: p.agent_name, name })], buttons);
  }

  function answerFrom(replies: Array<{ body: string; metadata: Record<string, unknown> }>, forwarded: boolean, settings: KeySettings): SalesIqResponse {
    const last = replies[replies.length - 1];
    const buttons = (Array.isArray(last?.metadata?.buttons) ? last.metadata.buttons : []) as Button[];
    return replyResponse(replies.map((r) => r.body), buttons, { forward: forwarded, department: department(settings) });
  }

  /** After a 'pending' answer: once the message is answered (by us or another worker), deliver it now. */
  async function deliverLater(work: Promise<unknown> | null, messageId: number, log: Logger, requestId?: string) {
    if (work) await work.catch(() => null);
    const deadline = Date.now() + 30_000;
    for (;;) {
      const stored = await storedAnswer(sql, messageId);
      if (!stored.unanswered) {
        const ids = stored.replies.map((r) => r.outbox_id).filter((id): id is number => typeof id === "number");
        if (!ids.length) return;
        const [{ released }] = await sql`select public.outbox_release(${ids}::bigint[]) as released`;
        if ((released as number[]).length) await outbox.deliver((released as number[]).map(Number), { requestId });
        return;
      }
      if (Date.now() > deadline) {
        log.warn("salesiq reply not ready: the sweep delivers it", { message_id: messageId });
        return;
      }
      await sleep(250);
    }
  }

  /** Delivers what this turn queued besides replies (a Desk call, SalesIQ's close) once it is due. */
  async function deliverSideEffects(conversationId: string, requestId?: string) {
    const rows = await sql<{ id: number; wait_ms: number }[]>`
      select o.id, greatest(0, extract(epoch from (o.next_attempt_at - now())) * 1000)::int as wait_ms
      from public.outbox o
      where o.conversation_id = ${conversationId}::uuid and o.status = 'pending' and o.kind <> 'message'
        and o.channel in ('salesiq', 'zoho_desk') and o.next_attempt_at < now() + interval '5 seconds'
      order by o.id`;
    if (!rows.length) return;
    const wait = Math.max(...rows.map((r) => r.wait_ms));
    if (wait > 0) await sleep(wait + 50);
    await outbox.deliver(rows.map((r) => Number(r.id)), { requestId });
  }

  async function receive(req: Request, key: string, ctx: RequestContext): Promise<Response> {
    const raw = await readRawBody(req, MAX_BODY_BYTES);
    const [{ s }] = await sql`select public.salesiq_settings_for_key(${key}) as s`;
    const settings = s as KeySettings | null;
    if (!settings || !settings.salesiq_enabled) throw new AppError("NOT_FOUND", 404, "Unknown webhook");
    ctx.logFields.org_id = settings.org_id;
    const publicKey = settings.salesiq_public_key || zohoConfig.salesiq.publicKey;
    if (publicKey) await verifySalesIqSignature(publicKey, req.headers, raw);
    if (raw.length === 0) return jsonResponse({ status: "ok" }, 200); // a reachability check

    const event = parseSalesIqEvent(parseJson(decodeUtf8Body(raw)));
    if (settings.salesiq_org_id && event.salesiqOrgId && settings.salesiq_org_id !== event.salesiqOrgId) {
      throw new AppError("FORBIDDEN", 403, "This webhook belongs to another SalesIQ organisation");
    }
    ctx.logFields.handler = event.handler;
    if (event.handler === "trigger" || (!event.text && !event.button)) {
      metrics.event(FUNCTION_NAME, "greeting");
      return jsonResponse(await greeting(settings.org_id, event.visitor.name), 200);
    }
    if (!event.conversationId) throw new AppError("INVALID_EVENT", 422, "visitor.active_conversation_id is required");

    const metadata: Record<string, unknown> = { salesiq_handler: event.handler };
    if (event.requestId) metadata.salesiq_request_id = event.requestId;
    if (event.button) metadata.button = event.button;
    const [{ stored }] = await sql`
      select public.salesiq_ingest(${settings.org_id}::uuid, ${sql.json({
        conversation_id: event.conversationId,
        request_id: event.requestId,
        text: event.text,
        metadata,
        visitor: event.visitor,
      } as never)}) as stored`;
    if (stored?.error) throw new AppError("INVALID_EVENT", 422, `The message could not be stored (${stored.error})`);
    const conversationId = stored.conversation_id as string;
    const messageId = Number(stored.message_id);
    ctx.logFields.conversation_id = conversationId;
    ctx.logFields.message_id = messageId;

    if (stored.duplicate) {
      // A replayed request: the same answer when there is one, else the same 'pending'.
      ctx.logFields.duplicate = true;
      metrics.event(FUNCTION_NAME, "duplicate");
      const previous = await storedAnswer(sql, messageId);
      // Only an answer given inline is repeated; one delivered through the callbacks API is not sent twice.
      const inline = previous.replies.length > 0 && previous.replies.every((r) => r.inline);
      if (!previous.unanswered && inline) return jsonResponse(answerFrom(previous.replies, previous.forwarded, settings), 200);
      return jsonResponse({ action: "pending", replies: [PENDING_LINE] } satisfies SalesIqResponse, 200);
    }

    const work = pipeline.answerConversation(conversationId, ctx.logger, ctx.requestId);
    const outcome = await withinBudget(work, budgetMs);
    let mine: TurnOutcome | undefined;
    if (outcome.kind === "done") mine = outcome.value.find((o) => o.messageId === messageId);
    if (outcome.kind === "failed") ctx.logger.warn("message stored but not answered now", { error: describeError(outcome.error) });

    let response: SalesIqResponse | null = null;
    if (mine) {
      const ids = mine.replies.map((r) => r.outbox_id).filter((id): id is number => typeof id === "number");
      const [{ taken }] = await sql`select public.salesiq_take_inline(${ids}::bigint[], ${event.requestId}) as taken`;
      if (taken === ids.length) {
        const forwarded = mine.result.actions.some((a) => a.type === "handoff_requested" && a.changed);
        response = answerFrom(mine.replies.map((r) => ({ body: r.body, metadata: r.metadata })), forwarded, settings);
      }
    }
    if (response) {
      metrics.event(FUNCTION_NAME, response.action === "forward" ? "forwarded" : "answered");
    } else {
      metrics.event(FUNCTION_NAME, "pending");
      ctx.logFields.pending = true;
      response = { action: "pending", replies: [PENDING_LINE] };
      runInBackground(() => deliverLater(outcome.kind === "timeout" ? work : null, messageId, ctx.logger, ctx.requestId), ctx.logger);
    }
    runInBackground(async () => {
      if (outcome.kind === "timeout") await work.catch(() => null);
      await deliverSideEffects(conversationId, ctx.requestId);
    }, ctx.logger);
    return jsonResponse(response, 200);
  }

  return instrumentHandler(FUNCTION_NAME, logger, async (req, ctx) => {
    try {
      let path = new URL(req.url).pathname;
      if (path.startsWith("/functions/v1/")) path = path.slice("/functions/v1".length);
      const match = /^\/salesiq-webhook\/([A-Za-z0-9_-]{8,128})\/?$/.exec(path);
      if (!match) throw new AppError("NOT_FOUND", 404, "No such route: use /salesiq-webhook/<webhook_key>");
      if (req.method === "HEAD") return new Response(null, { status: 200 });
      if (req.method === "GET") return jsonResponse({ status: "ok" }, 200);
      if (req.method !== "POST") throw new AppError("METHOD_NOT_ALLOWED", 405, "Use POST", { allow: "GET, HEAD, POST" });
      return await receive(req, match[1], ctx);
    } catch (error) {
      if (error instanceof AppError) throw error;
      const code = (error as { code?: unknown })?.code;
      if (typeof code === "string" && (code.startsWith("22") || code.startsWith("23"))) {
        ctx.logger.warn("request refused by the database", { error: describeError(error) });
        throw new AppError("INVALID_EVENT", 422, "The request could not be stored as sent");
      }
      ctx.logger.error("salesiq request failed", { error: describeError(error) });
      throw new AppError("UNAVAILABLE", 503, "Temporarily unavailable, retry later", { "retry-after": "5" });
    } finally {
      flusher.maybeFlush(ctx.logger);
    }
  });
}
