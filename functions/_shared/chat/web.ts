// The web-chat API, function `chat` (public: the gateway's JWT check is off; the customer holds a
// session token instead). Routes, under /functions/v1:
//
//   POST chat/sessions                 {"site_key", "customer"?: {"name", "phone", "email"}, "timezone"?}
//                                      → 201 {"session_id", "session_token", "conversation", "messages"}
//   POST chat/sessions/{id}/messages   Bearer <session_token>; {"text"} or {"button"} (+ "client_message_id"?)
//                                      → 200 {"messages", "conversation", "actions"}
//   GET  chat/sessions/{id}            Bearer <session_token> → the whole history (agents' replies included)
//   GET  chat/sessions/{id}/debug      Bearer <SUPABASE_SERVICE_ROLE_KEY> → messages, LLM calls, state, actions
//   POST chat/sweep                    Bearer <SUPABASE_SERVICE_ROLE_KEY> → answers forgotten messages, retries the outbox
//
// The session token is 32 random bytes (base64url); only its SHA-256 is stored. A missing or unknown
// token is 401; a valid token used on another session's id is 404. Requests are rate-limited per
// client IP (when TRUSTED_IP_HEADER says how to read it) and per site. CORS is open (the widget runs
// on the business's own site; the token, not a cookie, authorises).
import { z } from "zod";
import type { Env } from "../config/env.ts";
import { decodeUtf8Body, parseJson, readRawBody, requireJsonContentType } from "../http/body.ts";
import { AppError } from "../http/errors.ts";
import { jsonResponse } from "../http/respond.ts";
import type { Logger } from "../log/logger.ts";
import { createClientIpResolver } from "../net/client-ip.ts";
import { describeError, instrumentHandler, type RequestContext } from "../observability/http.ts";
import { metrics } from "../observability/index.ts";
import { createMetricsFlusher } from "../observability/store.ts";
import { requireBearerToken } from "../observability/token.ts";
import { createRateLimiter, createRateLimitStore, type RateLimitDecision, rateLimitHeaders, type RateLimiter } from "../ratelimit/index.ts";
import { encodeBase64Url } from "../signatures/encoding.ts";
import { languagePack } from "./brain/language.ts";
import { AGENT_MODE, isKnownButton, normalizeButtons, SCHEDULE_CALLBACK } from "./buttons.ts";
import { isValidTimeZone } from "./callback/time.ts";
import type { ChatConfig } from "./config.ts";
import { buildChatRuntime, type ChatRuntimeDeps } from "./runtime.ts";
import { addBotMessage, conversationState, repliesTo, type TokenOwner } from "./store.ts";
import type { OrgProfile } from "./types.ts";

export const FUNCTION_NAME = "chat";
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const MAX_BODY_BYTES = 32 * 1024;

const CORS = {
  "access-control-allow-origin": "*",
  "access-control-allow-methods": "GET, POST, OPTIONS",
  "access-control-allow-headers": "authorization, content-type, x-request-id",
  "access-control-max-age": "86400",
};

const startSchema = z.object({
  site_key: z.string().regex(/^[A-Za-z0-9_-]{3,64}$/, "site_key must be 3-64 letters, digits, _ or -"),
  customer: z.object({
    name: z.string().trim().max(100).optional(),
    phone: z.string().trim().max(40).optional(),
    email: z.string().trim().max(200).email().optional(),
  }).strict().optional(),
  timezone: z.string().max(64).optional(),
}).strict();

export type Route =
  | { kind: "start" }
  | { kind: "message"; id: string }
  | { kind: "history"; id: string }
  | { kind: "debug"; id: string }
  | { kind: "sweep" };

export function routeOf(url: string): Route | null {
  let path = new URL(url).pathname;
  if (path.startsWith("/functions/v1/")) path = path.slice("/functions/v1".length);
  path = path.replace(/\/+$/, "");
  if (path === "/chat/sessions") return { kind: "start" };
  if (path === "/chat/sweep") return { kind: "sweep" };
  const m = /^\/chat\/sessions\/([^/]+)(\/messages|\/debug)?$/.exec(path);
  if (!m || !UUID.test(m[1])) return null;
  const id = m[1].toLowerCase();
  return m[2] === "/messages" ? { kind: "message", id } : m[2] === "/debug" ? { kind: "debug", id } : { kind: "history", id };
}

async function sha256(text: string): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text)));
}

function newToken(): string {
  return encodeBase64Url(crypto.getRandomValues(new Uint8Array(32)));
}

function method(req: Request, allowed: string): void {
  if (req.method !== allowed) throw new AppError("METHOD_NOT_ALLOWED", 405, `Use ${allowed}`, { allow: `${allowed}, OPTIONS` });
}

async function jsonBody(req: Request): Promise<unknown> {
  requireJsonContentType(req);
  return parseJson(decodeUtf8Body(await readRawBody(req, MAX_BODY_BYTES)));
}

function invalid(error: z.ZodError): never {
  const first = error.issues[0];
  throw new AppError("BAD_REQUEST", 400, `${first.path.join(".") || "body"}: ${first.message}`);
}

function publicMessage(m: { id: number | string; body: string; metadata: Record<string, unknown>; created_at: Date | string }) {
  const buttons = Array.isArray(m.metadata?.buttons) ? m.metadata.buttons : undefined;
  const sources = Array.isArray(m.metadata?.sources) ? m.metadata.sources : undefined;
  return {
    id: Number(m.id),
    sender: "bot",
    body: m.body,
    ...(buttons ? { buttons } : {}),
    ...(sources ? { sources } : {}),
    created_at: new Date(m.created_at).toISOString(),
  };
}

function greetingFor(profile: OrgProfile, name: string | null | undefined) {
  const pack = languagePack(profile.settings.language);
  return {
    body: pack.lines.greeting({ company: profile.company_name, agent: profile.agent_name, name: name ?? null }),
    buttons: normalizeButtons([
      { id: AGENT_MODE, title: pack.lines.buttons.agent },
      { id: SCHEDULE_CALLBACK, title: pack.lines.buttons.callback },
    ]),
  };
}

export function buildChatHandler(config: ChatConfig, env: Env, logger: Logger, deps: ChatRuntimeDeps & { limiter?: RateLimiter } = {}) {
  const runtime = buildChatRuntime(config, env, logger, deps);
  const { sql, store, pipeline } = runtime;
  const limiter = deps.limiter ?? createRateLimiter({
    store: createRateLimitStore(config.RATE_LIMIT_STORE, { sql, redisUrl: config.REDIS_URL }),
    windowSeconds: 60,
    budgetMs: config.RATE_LIMIT_STORE_BUDGET_MS,
    logger,
  });
  const resolveIp = createClientIpResolver({ header: config.TRUSTED_IP_HEADER, hop: config.TRUSTED_IP_HOP });
  const flusher = createMetricsFlusher(sql, { intervalMs: config.METRICS_FLUSH_INTERVAL_MS });
  const messageSchema = z.object({
    text: z.string().trim().min(1, "text must not be empty").max(config.CHAT_MAX_MESSAGE_CHARS).optional(),
    button: z.string().max(64).optional(),
    client_message_id: z.string().regex(/^[A-Za-z0-9_.:-]{1,100}$/).optional(),
  }).strict().refine((b) => (b.text === undefined) !== (b.button === undefined), "send exactly one of text or button");

  async function limit(req: Request, site: string, siteLimit: number | null, ctx: RequestContext): Promise<RateLimitDecision[]> {
    const ip = resolveIp(req);
    const rules = [];
    if (ip && config.CHAT_RATE_LIMIT_IP_PER_MINUTE > 0) rules.push({ scope: "ip", key: ip.text, limit: config.CHAT_RATE_LIMIT_IP_PER_MINUTE });
    const perSite = siteLimit ?? config.CHAT_RATE_LIMIT_SITE_PER_MINUTE;
    if (perSite > 0) rules.push({ scope: "site", key: site, limit: perSite });
    if (rules.length === 0) return [];
    const decision = await limiter.check(rules);
    ctx.logFields.rate_limit_store = decision.decidedBy;
    if (!decision.allowed) {
      metrics.rateLimited(FUNCTION_NAME, decision.exceededScope ?? "site");
      throw new AppError("RATE_LIMITED", 429, `Rate limit exceeded (${decision.exceededScope})`, rateLimitHeaders([decision]));
    }
    return [decision];
  }

  async function owner(req: Request, id: string): Promise<TokenOwner> {
    const header = req.headers.get("authorization") ?? "";
    const match = /^Bearer ([A-Za-z0-9_-]{20,100})$/.exec(header.trim());
    if (!match) throw new AppError("UNAUTHORIZED", 401, "A session token is required (Authorization: Bearer <session_token>)");
    const found = await store.sessionForToken(await sha256(match[1]));
    if (!found) throw new AppError("UNAUTHORIZED", 401, "Unknown session token");
    if (found.session_id !== id) throw new AppError("NOT_FOUND", 404, "No such session");
    if (!found.site_enabled) throw new AppError("NOT_FOUND", 404, "This chat is not available");
    return found;
  }

  async function start(req: Request, ctx: RequestContext): Promise<Response> {
    method(req, "POST");
    const parsed = startSchema.safeParse(await jsonBody(req));
    if (!parsed.success) invalid(parsed.error);
    const input = parsed.data;
    if (input.timezone !== undefined && !isValidTimeZone(input.timezone)) {
      throw new AppError("BAD_REQUEST", 400, "timezone: not an IANA time zone (e.g. America/Toronto)");
    }
    const decisions = await limit(req, `key:${input.site_key}`, null, ctx);
    const token = newToken();
    const started = await store.startSession(input.site_key, await sha256(token), input.customer ?? {}, input.timezone ?? null);
    if ("error" in started) throw new AppError("NOT_FOUND", 404, "Unknown or disabled site_key");
    ctx.logFields.conversation_id = started.conversation_id;
    const profile = (started as unknown as { profile: OrgProfile }).profile;
    const greeting = greetingFor(profile, input.customer?.name);
    const message = await addBotMessage(sql, started.conversation_id, started.org_id, greeting.body, { buttons: greeting.buttons, greeting: true });
    metrics.event(FUNCTION_NAME, "session_started");
    return jsonResponse({
      session_id: started.session_id,
      session_token: token,
      conversation: { id: started.conversation_id, status: "bot" },
      messages: [publicMessage(message)],
    }, 201, { ...CORS, ...rateLimitHeaders(decisions) });
  }

  async function message(req: Request, id: string, ctx: RequestContext): Promise<Response> {
    method(req, "POST");
    const session = await owner(req, id);
    ctx.logFields.conversation_id = session.conversation_id;
    const decisions = await limit(req, `site:${session.site_id}`, session.site_rate_limit, ctx);
    const parsed = messageSchema.safeParse(await jsonBody(req));
    if (!parsed.success) invalid(parsed.error);
    const input = parsed.data;
    if (input.button !== undefined && !isKnownButton(input.button)) {
      throw new AppError("BAD_REQUEST", 400, "button: unknown button id");
    }
    const body = input.text ?? input.button!;
    const metadata = input.button ? { button: input.button } : {};
    const providerId = input.client_message_id ? `web:${id}:${input.client_message_id}` : null;
    const stored = await store.addCustomerMessage(session.conversation_id, body, providerId, metadata);
    if ("error" in stored) throw new AppError("NOT_FOUND", 404, "No such session");
    ctx.logFields.message_id = stored.message_id;
    const headers = { ...CORS, ...rateLimitHeaders(decisions) };

    let messages: ReturnType<typeof publicMessage>[] = [];
    let actions: unknown[] = [];
    let pending = false;
    if (stored.duplicate) {
      messages = (await repliesTo(sql, session.conversation_id, stored.message_id)).map(publicMessage);
      ctx.logFields.duplicate = true;
    } else {
      try {
        const outcomes = await pipeline.answerConversation(session.conversation_id, ctx.logger, ctx.requestId);
        const mine = outcomes.find((o) => o.messageId === stored.message_id);
        if (mine) {
          messages = mine.replies.map((r) => publicMessage({ ...r, id: r.message_id }));
          actions = mine.result.actions;
        } else {
          pending = true;
        }
      } catch (error) {
        // Stored, not yet answered: the sweep answers it; the customer sees it in the history.
        ctx.logger.warn("message stored but not answered now", { error: describeError(error) });
        pending = true;
      }
    }
    const state = await conversationState(sql, session.conversation_id);
    return jsonResponse({
      messages,
      conversation: state ?? { id: session.conversation_id },
      actions,
      ...(pending ? { pending: true } : {}),
    }, 200, headers);
  }

  async function history(req: Request, id: string, ctx: RequestContext): Promise<Response> {
    if (req.method !== "GET" && req.method !== "HEAD") throw new AppError("METHOD_NOT_ALLOWED", 405, "Use GET", { allow: "GET, OPTIONS" });
    const session = await owner(req, id);
    ctx.logFields.conversation_id = session.conversation_id;
    const decisions = await limit(req, `site:${session.site_id}`, session.site_rate_limit, ctx);
    const result = await store.history(session.conversation_id);
    return jsonResponse({ session_id: id, ...result }, 200, { ...CORS, ...rateLimitHeaders(decisions) });
  }

  async function debug(req: Request, id: string): Promise<Response> {
    if (req.method !== "GET") throw new AppError("METHOD_NOT_ALLOWED", 405, "Use GET", { allow: "GET" });
    await requireBearerToken(req, config.SUPABASE_SERVICE_ROLE_KEY, "The debug view", "SUPABASE_SERVICE_ROLE_KEY");
    // The id is a web session's, or (for other channels) the conversation's own.
    const [row] = await sql`
      select coalesce((select s.conversation_id from public.chat_sessions s where s.id = ${id}::uuid),
                      (select c.id from public.conversations c where c.id = ${id}::uuid)) as conversation_id`;
    if (!row?.conversation_id) throw new AppError("NOT_FOUND", 404, "No such session or conversation");
    return jsonResponse(await store.debug(row.conversation_id), 200);
  }

  async function sweep(req: Request, ctx: RequestContext): Promise<Response> {
    method(req, "POST");
    await requireBearerToken(req, config.SUPABASE_SERVICE_ROLE_KEY, "The sweep", "SUPABASE_SERVICE_ROLE_KEY");
    const report = await pipeline.sweep(ctx.logger);
    ctx.logFields.swept = report.conversations;
    return jsonResponse(report, 200);
  }

  return instrumentHandler(FUNCTION_NAME, logger, async (req, ctx) => {
    try {
      const route = routeOf(req.url);
      if (!route) throw new AppError("NOT_FOUND", 404, "No such route");
      if (req.method === "OPTIONS") return new Response(null, { status: 204, headers: CORS });
      switch (route.kind) {
        case "start":
          return await start(req, ctx);
        case "message":
          return await message(req, route.id, ctx);
        case "history":
          return await history(req, route.id, ctx);
        case "debug":
          return await debug(req, route.id);
        case "sweep":
          return await sweep(req, ctx);
      }
    } catch (error) {
      if (error instanceof AppError) {
        try {
          for (const [k, v] of Object.entries(CORS)) error.headers[k] = v;
        } catch { /* frozen headers: leave them */ }
        throw error;
      }
      // Postgres refusing the data (class 22/23) is the caller's problem; anything else is ours.
      const code = (error as { code?: unknown })?.code;
      if (typeof code === "string" && (code.startsWith("22") || code.startsWith("23"))) {
        ctx.logger.warn("request refused by the database", { error: describeError(error) });
        throw new AppError("BAD_REQUEST", 400, "The request could not be stored as sent");
      }
      ctx.logger.error("chat request failed", { error: describeError(error) });
      throw new AppError("UNAVAILABLE", 503, "Temporarily unavailable, retry later", { "retry-after": "5", ...CORS });
    } finally {
      flusher.maybeFlush(ctx.logger);
    }
  });
}
