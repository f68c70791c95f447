// /functions/v1/template-builder: the WhatsApp template builder.
//
//   GET  session/new              start a session                        → {session_id, state, mode, reply}
//   POST chat                     {session_id, message}                  → {reply, state, missing, draft, payload, validation, ...}
//   GET  session/{id}             the history and current draft (for a UI)
//   GET  session/{id}/debug       operators (Bearer SUPABASE_SERVICE_ROLE_KEY): history, every LLM
//                                 request and response with latency, drafts, memory, last action
//   POST session/{id}/submit      send the final payload to Meta         → {submission}
//   POST validate                 a Meta creation payload                → {valid, errors, warnings}
//   GET  health                   liveness and mode
//   GET  webhook / POST webhook   Meta's verification handshake; signed message_template_status_update events
//
// The caller's organisation comes from its Supabase JWT (auth.ts), or is the demo organisation
// locally when no SUPABASE_JWT_SECRET is set.
import type { Sql } from "../db/client.ts";
import { decodeUtf8Body, parseJson, readRawBody, requireJsonContentType } from "../http/body.ts";
import { AppError } from "../http/errors.ts";
import { jsonResponse } from "../http/respond.ts";
import type { Logger } from "../log/logger.ts";
import { describeError, instrumentHandler, type RequestContext } from "../observability/http.ts";
import type { OutboundPolicy } from "../resilience/policy.ts";
import { type RateLimiter, rateLimitHeaders } from "../ratelimit/index.ts";
import { metrics } from "../observability/index.ts";
import { verifyMetaSignature } from "../signatures/meta.ts";
import { timingSafeEqual, utf8 } from "../signatures/encoding.ts";
import { type Caller, createCallerResolver } from "./auth.ts";
import { guidedConversationTurn, type TurnResult } from "./conversation.ts";
import { createTemplate } from "./graph.ts";
import { llmConversationTurn, type TemplateModel } from "./llm-flow.ts";
import { applyTemplateStatusUpdate, templateStatusChanges } from "./status.ts";
import {
  beginSubmission, createSession, finishSubmission, listDrafts, listLlmCalls, loadAccount, loadSession, type Mode,
  saveTurn, type StoredSession,
} from "./store.ts";
import { validateTemplate } from "./validator.ts";

export const FUNCTION_NAME = "template-builder";
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const MAX_MESSAGE_CHARS = 4000;

export interface TemplateBuilderOptions {
  sql: Sql;
  logger: Logger;
  mode: Mode;
  /** Required when mode is llm. */
  model: TemplateModel | null;
  jwtSecret: string | null;
  serviceRoleKey: string | null;
  graphUrl: string;
  graphPolicy: OutboundPolicy;
  appSecrets: string[];
  verifyToken: string | null;
  maxBodyBytes: number;
  maxWebhookBytes: number;
  /** Limits chat turns, new sessions and submissions per organisation (each turn may cost an LLM call). */
  limiter?: RateLimiter;
  /** Requests per minute per organisation on those routes; 0 = no limit. */
  orgPerMinute?: number;
  /** Called after each request (metrics flushing). */
  afterRequest?: (logger: Logger) => void;
}

const GREETING =
  "Hi! Describe the WhatsApp message you want to send, e.g. \"a reminder for tomorrow's appointment with the customer's name and time, and a button to reschedule\". " +
  "You can also give its parts as lines: category:, language:, name:, body:, examples:, header:, footer:, buttons:.";

/** The route below /functions/v1/template-builder. */
export function routeOf(url: string): string[] | null {
  let path: string;
  try {
    path = new URL(url).pathname;
  } catch {
    return null;
  }
  if (path.startsWith("/functions/v1/")) path = path.slice("/functions/v1".length);
  const m = /^\/template-builder(\/.*)?$/.exec(path);
  if (!m) return null;
  return (m[1] ?? "/").split("/").filter((s) => s.length > 0);
}

function allow(req: Request, ...methods: string[]): void {
  if (!methods.includes(req.method)) {
    throw new AppError("METHOD_NOT_ALLOWED", 405, `Use ${methods.join(" or ")}`, { allow: methods.join(", ") });
  }
}

async function readJson(req: Request, maxBytes: number): Promise<unknown> {
  requireJsonContentType(req);
  return parseJson(decodeUtf8Body(await readRawBody(req, maxBytes)));
}

async function digest(text: string): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", utf8(text) as BufferSource));
}

/** Bearer SUPABASE_SERVICE_ROLE_KEY, compared as SHA-256 digests in constant time. */
async function requireOperator(req: Request, key: string | null): Promise<void> {
  if (!key) throw new AppError("NOT_CONFIGURED", 503, "The debug view is off: set SUPABASE_SERVICE_ROLE_KEY");
  const m = /^Bearer ([\x21-\x7e]{1,4096})$/.exec((req.headers.get("authorization") ?? "").trim());
  if (!m || !timingSafeEqual(await digest(m[1]), await digest(key))) {
    throw new AppError("UNAUTHORIZED", 401, "The debug view needs the service role key", { "www-authenticate": 'Bearer realm="template-builder"' });
  }
}

function sessionView(s: StoredSession) {
  return {
    session_id: s.id,
    state: s.state,
    mode: s.mode,
    turns: s.turns,
    messages: s.messages,
    draft: s.draft,
    version: s.latest?.version ?? null,
    payload: s.state === "gathering" ? null : s.latest?.payload ?? null,
    validation: s.latest?.validation ?? null,
    submissions: s.submissions,
    created_at: s.createdAt,
    updated_at: s.updatedAt,
  };
}

export function createTemplateBuilderHandler(o: TemplateBuilderOptions): (req: Request) => Promise<Response> {
  if (o.mode === "llm" && !o.model) throw new Error("createTemplateBuilderHandler: llm mode needs a model");
  const resolveCaller = createCallerResolver({ sql: o.sql, jwtSecret: o.jwtSecret });

  /** 429 RATE_LIMITED past orgPerMinute for the caller's organisation (shared store when there is one). */
  async function limit(caller: Caller, ctx: RequestContext): Promise<void> {
    if (!o.limiter || !o.orgPerMinute) return;
    const decision = await o.limiter.check([{ scope: "template_org", key: caller.orgId, limit: o.orgPerMinute }]);
    ctx.logFields.rate_limit_store = decision.decidedBy;
    if (!decision.allowed) {
      metrics.rateLimited(FUNCTION_NAME, "template_org");
      throw new AppError("RATE_LIMITED", 429, "Too many requests for this organisation: slow down", rateLimitHeaders([decision]));
    }
  }

  async function session(caller: Caller, id: string): Promise<StoredSession> {
    if (!UUID.test(id)) throw new AppError("NOT_FOUND", 404, "No such session");
    const s = await loadSession(o.sql, id.toLowerCase(), caller.orgId);
    if (!s) throw new AppError("NOT_FOUND", 404, "No such session");
    return s;
  }

  async function newSession(req: Request, ctx: RequestContext): Promise<Response> {
    allow(req, "GET", "POST");
    const caller = await resolveCaller(req);
    await limit(caller, ctx);
    let id: string;
    try {
      id = await createSession(o.sql, caller.orgId, o.mode);
    } catch (error) {
      if ((error as { code?: unknown }).code === "23503") {
        throw new AppError("NOT_CONFIGURED", 503, "The organisation does not exist (load the seed for the demo organisation)");
      }
      throw error;
    }
    ctx.logFields.session_id = id;
    return jsonResponse({ session_id: id, state: "gathering", mode: o.mode, missing: [], reply: GREETING }, 201);
  }

  async function chat(req: Request, ctx: RequestContext): Promise<Response> {
    allow(req, "POST");
    const caller = await resolveCaller(req);
    const body = await readJson(req, o.maxBodyBytes) as Record<string, unknown> | null;
    const sessionId = body && typeof body === "object" ? body.session_id : undefined;
    const message = body && typeof body === "object" ? body.message : undefined;
    if (typeof sessionId !== "string" || !UUID.test(sessionId)) throw new AppError("BAD_REQUEST", 400, "session_id must be the id from GET session/new");
    if (typeof message !== "string" || message.trim().length === 0 || message.length > MAX_MESSAGE_CHARS) {
      throw new AppError("BAD_REQUEST", 400, `message must be 1 to ${MAX_MESSAGE_CHARS} characters`);
    }
    ctx.logFields.session_id = sessionId;
    await limit(caller, ctx);
    const s = await session(caller, sessionId);
    let result: TurnResult;
    if (s.mode === "llm") {
      if (!o.model) throw new AppError("NOT_CONFIGURED", 503, "This session uses the LLM, which is not configured: set OPENAI_API_KEY");
      const out = await llmConversationTurn(o.model, { state: s.state, draft: s.draft, memory: s.memory, history: s.messages }, message, {
        sessionId: s.id, orgId: s.orgId, requestId: ctx.requestId, signal: req.signal,
      });
      if (out.llmError) ctx.logFields.llm_error = out.llmError;
      result = out;
    } else {
      result = guidedConversationTurn({ state: s.state, draft: s.draft, memory: s.memory }, message);
    }
    const saved = await saveTurn(o.sql, {
      sessionId: s.id, orgId: s.orgId, expectedTurns: s.turns, userMessage: message, reply: result.reply,
      state: result.state, draft: result.draft, payload: result.payload, validation: result.validation,
      source: s.mode, memory: result.memory, lastAction: result.lastAction,
    });
    ctx.logFields.state = result.state;
    return jsonResponse({
      session_id: s.id,
      turn: saved.turn,
      reply: result.reply,
      state: result.state,
      missing: result.missing,
      draft: result.draft,
      version: saved.version,
      payload: result.state === "gathering" ? null : result.payload,
      validation: result.validation,
    });
  }

  async function debug(req: Request, id: string): Promise<Response> {
    allow(req, "GET");
    await requireOperator(req, o.serviceRoleKey);
    if (!UUID.test(id)) throw new AppError("NOT_FOUND", 404, "No such session");
    const [row] = await o.sql<{ org_id: string }[]>`select org_id from public.template_sessions where id = ${id}`;
    if (!row) throw new AppError("NOT_FOUND", 404, "No such session");
    const s = await loadSession(o.sql, id, row.org_id);
    if (!s) throw new AppError("NOT_FOUND", 404, "No such session");
    const [drafts, llmCalls] = await Promise.all([listDrafts(o.sql, s.id, s.orgId), listLlmCalls(o.sql, s.id, s.orgId)]);
    return jsonResponse({
      session: { id: s.id, org_id: s.orgId, state: s.state, mode: s.mode, turns: s.turns, last_action: s.lastAction, created_at: s.createdAt, updated_at: s.updatedAt },
      history: s.messages,
      llm_calls: llmCalls,
      draft: s.draft,
      payload: s.latest?.payload ?? null,
      validation: s.latest?.validation ?? null,
      drafts,
      memory: s.memory,
      last_action: s.lastAction,
      submissions: s.submissions,
    });
  }

  async function submit(req: Request, ctx: RequestContext, id: string): Promise<Response> {
    allow(req, "POST");
    const caller = await resolveCaller(req);
    await limit(caller, ctx);
    const s = await session(caller, id);
    ctx.logFields.session_id = s.id;
    if (s.state !== "final" || !s.latest) {
      throw new AppError("TEMPLATE_NOT_READY", 409, `The template is not final yet (state: ${s.state}): finish the conversation first`);
    }
    const payload = s.latest.payload;
    if (!validateTemplate(payload).valid) throw new AppError("TEMPLATE_NOT_READY", 409, "The final payload does not pass validation");
    const account = await loadAccount(o.sql, s.orgId);
    if (!account) {
      throw new AppError("WABA_NOT_CONFIGURED", 409, "This organisation has no WhatsApp Business Account: add its WABA id and token (whatsapp_template_accounts)");
    }
    const claim = await beginSubmission(o.sql, { sessionId: s.id, orgId: s.orgId, version: s.latest.version, wabaId: account.wabaId, payload });
    ctx.logFields.submission_id = claim.id;
    if (!claim.created) {
      // Already sent (or in flight): one request to Meta per draft version.
      return jsonResponse({ submission: { id: claim.id, status: claim.status, meta_template_id: claim.meta_template_id, error: claim.error }, duplicate: true }, 200);
    }
    try {
      const created = await createTemplate(o.graphPolicy, o.graphUrl, account, payload, { requestId: ctx.requestId });
      const done = await finishSubmission(o.sql, claim.id, { metaTemplateId: created.id, status: created.status, category: created.category, error: null });
      ctx.logFields.meta_status = created.status;
      return jsonResponse({ submission: done ?? { id: claim.id, status: created.status, meta_template_id: created.id }, duplicate: false }, 201);
    } catch (error) {
      const details = error instanceof AppError ? { code: error.code, ...(error.details ?? {}) } : { code: "INTERNAL" };
      await finishSubmission(o.sql, claim.id, { metaTemplateId: null, status: "FAILED", category: null, error: details }).catch((e) =>
        ctx.logger.error("submission outcome not stored", { error: describeError(e) })
      );
      throw error;
    }
  }

  async function webhook(req: Request, ctx: RequestContext): Promise<Response> {
    allow(req, "GET", "POST");
    if (req.method === "GET") {
      // Meta's verification handshake: echo hub.challenge when hub.verify_token matches.
      if (!o.verifyToken) throw new AppError("NOT_CONFIGURED", 503, "Set WHATSAPP_VERIFY_TOKEN to verify this webhook");
      const q = new URL(req.url).searchParams;
      const token = q.get("hub.verify_token") ?? "";
      const ok = q.get("hub.mode") === "subscribe" && timingSafeEqual(await digest(token), await digest(o.verifyToken));
      const challenge = q.get("hub.challenge") ?? "";
      if (!ok || !/^[\x21-\x7e]{1,200}$/.test(challenge)) throw new AppError("FORBIDDEN", 403, "Verification failed");
      return new Response(challenge, { status: 200, headers: { "content-type": "text/plain" } });
    }
    if (o.appSecrets.length === 0) throw new AppError("NOT_CONFIGURED", 503, "Set WHATSAPP_APP_SECRET to accept Meta's webhooks");
    requireJsonContentType(req);
    const raw = await readRawBody(req, o.maxWebhookBytes);
    await verifyMetaSignature(o.appSecrets, req.headers, raw);
    const changes = templateStatusChanges(parseJson(decodeUtf8Body(raw)));
    let applied = 0;
    let matched = 0;
    let skipped = 0;
    for (const change of changes) {
      try {
        const r = await applyTemplateStatusUpdate(o.sql, change.value, { wabaId: change.wabaId });
        if (!r.duplicate) applied++;
        if (r.matched) matched++;
      } catch (error) {
        // A malformed change would be retried by Meta for days: log it and acknowledge the rest.
        if (error instanceof AppError && error.code === "INVALID_EVENT") skipped++;
        else throw error;
      }
    }
    ctx.logFields.template_status_changes = changes.length;
    return jsonResponse({ ok: true, changes: changes.length, applied, matched, skipped });
  }

  return instrumentHandler(FUNCTION_NAME, o.logger, async (req, ctx) => {
    try {
      const route = routeOf(req.url);
      if (!route) throw new AppError("NOT_FOUND", 404, "No such route");
      const [a, b, c, extra] = route;
      if (extra !== undefined) throw new AppError("NOT_FOUND", 404, "No such route");
      if (a === "health" && !b) {
        allow(req, "GET");
        return jsonResponse({ status: "ok", function: FUNCTION_NAME, mode: o.mode, model: o.model?.name ?? null, auth: o.jwtSecret ? "jwt" : "demo-organisation" });
      }
      if (a === "validate" && !b) {
        allow(req, "POST");
        return jsonResponse(validateTemplate(await readJson(req, o.maxBodyBytes)));
      }
      if (a === "chat" && !b) return await chat(req, ctx);
      if (a === "webhook" && !b) return await webhook(req, ctx);
      if (a === "session" && b === "new" && !c) return await newSession(req, ctx);
      if (a === "session" && b && !c) {
        allow(req, "GET");
        return jsonResponse(sessionView(await session(await resolveCaller(req), b)));
      }
      if (a === "session" && b && c === "debug") return await debug(req, b);
      if (a === "session" && b && c === "submit") return await submit(req, ctx, b);
      throw new AppError("NOT_FOUND", 404, "No such route");
    } catch (error) {
      if (error instanceof AppError) throw error;
      const code = (error as { code?: unknown })?.code;
      // Values the database refuses (class 22, 23) came from the request; anything else is ours.
      if (typeof code === "string" && (code.startsWith("22") || code.startsWith("23"))) {
        ctx.logger.warn("refused by the database", { error: describeError(error) });
        throw new AppError("BAD_REQUEST", 400, "The request could not be stored as sent");
      }
      ctx.logger.error("template builder failed", { error: describeError(error) });
      throw new AppError("UNAVAILABLE", 503, "Temporarily unavailable, retry later", { "retry-after": "5" });
    } finally {
      o.afterRequest?.(ctx.logger);
    }
  });
}
