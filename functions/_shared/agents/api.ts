// The agents' API, function `agents` (route shapes of the systems it replaces), under /functions/v1:
//
//   GET   agents/me                               the signed-in agent, with their load
//   PATCH agents/me                               {"status": "online" | "away" | "offline"}
//   GET   agents/sessions/waiting                 the queue: priority, then waiting time
//   GET   agents/sessions/my-chats/{agent_id|me}  active sessions (another agent's: supervisors)
//   GET   agents/sessions/all                     open sessions of the organisation (supervisors)
//   GET   agents/sessions/history                 ?agent_id&status&search&start_date&end_date&limit=50&offset=0
//   POST  agents/sessions/start/{phone}           a live WhatsApp session with that customer, for me
//   GET   agents/sessions/{id}                    one session
//   POST  agents/sessions/{id}/assign             accept; {"agent_id"} assigns another agent (supervisors)
//   POST  agents/sessions/{id}/end                end (the conversation is resolved)
//   GET   agents/sessions/{id}/messages           the conversation's messages
//   POST  agents/sessions/{id}/messages           {"text", "client_message_id"?}: a reply to the customer
//   POST  agents/sessions/{id}/transfer           {"agent_id"} or {"skill"}
//   POST  agents/sessions/{id}/escalate
//   POST  agents/queue                            {"conversation_id", "priority"?, "skill"?, "summary"?}
//   POST  agents/assign/{conversation_id}         accept the conversation's open session ({"agent_id"}?)
//   POST  agents/response/{conversation_id}       reply on the conversation's session
//   POST  agents/escalate/{conversation_id}
//   GET   agents/stats?from=YYYY-MM-DD&to=        per-agent daily rollup (supervisors)
//   GET   agents/canned-replies                   the organisation's canned replies (the dashboard's "/shortcut")
//   GET   agents/team                             the organisation's agents (transfer and assign targets)
//   GET   agents/feed                             Server-Sent Events (feed.ts); ?access_token= allowed
//
// Every route needs the agent's Supabase JWT (auth.ts); the database work runs as that agent
// (store.ts). Replies to WhatsApp customers are delivered through the chat runtime's outbox right
// after the answer, and retried by the chat sweep.
import type postgres from "postgres";
import { z } from "zod";
import type { Env } from "../config/env.ts";
import { buildChatRuntime } from "../chat/runtime.ts";
import { parseChatConfig } from "../chat/config.ts";
import type { Sql } from "../db/client.ts";
import { createSql } from "../db/client.ts";
import { decodeUtf8Body, parseJson, readRawBody, requireJsonContentType } from "../http/body.ts";
import { AppError } from "../http/errors.ts";
import { jsonResponse } from "../http/respond.ts";
import type { Logger } from "../log/logger.ts";
import { describeError, instrumentHandler, type RequestContext } from "../observability/http.ts";
import type { OutboxDispatcher } from "../outbox/dispatcher.ts";
import { runInBackground } from "../runtime/background.ts";
import { createTokenVerifier, tokenOf, type TokenVerifier, type VerifiedClaims } from "./auth.ts";
import { type AgentsConfig, jwksUrlOf } from "./config.ts";
import { createFeedHub, feedStream, parseEventId } from "./feed.ts";
import { createAgentStore, mapDatabaseError, type Me, type Tx } from "./store.ts";

export const FUNCTION_NAME = "agents";
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const DAY = /^\d{4}-\d{2}-\d{2}$/;
const MAX_BODY_BYTES = 32 * 1024;

const CORS = {
  "access-control-allow-origin": "*",
  "access-control-allow-methods": "GET, POST, PATCH, OPTIONS",
  "access-control-allow-headers": "authorization, content-type, last-event-id, x-request-id",
  "access-control-max-age": "86400",
};

export interface AgentsDeps {
  sql?: Sql;
  verifier?: TokenVerifier;
  outbox?: OutboxDispatcher | null;
}

const uuid = z.string().regex(UUID, "must be a UUID");
const schemas = {
  status: z.object({ status: z.enum(["online", "away", "offline"]) }).strict(),
  assign: z.object({ agent_id: uuid.optional() }).strict(),
  reply: (max: number) =>
    z.object({
      text: z.string().refine((t) => t.trim().length > 0, "text must not be empty").pipe(z.string().max(max)),
      client_message_id: z.string().regex(/^[A-Za-z0-9_.:-]{1,100}$/).optional(),
    }).strict(),
  transfer: z.object({ agent_id: uuid.optional(), skill: z.string().trim().min(1).max(64).optional() }).strict()
    .refine((b) => (b.agent_id === undefined) !== (b.skill === undefined), "send exactly one of agent_id or skill"),
  queue: z.object({
    conversation_id: uuid,
    priority: z.number().int().min(0).max(3).optional(),
    skill: z.string().trim().min(1).max(64).optional(),
    summary: z.string().trim().max(500).optional(),
  }).strict(),
  empty: z.object({}).strict(),
};

type Handler = (req: Request, ctx: RequestContext, claims: VerifiedClaims, params: string[]) => Promise<Response>;

interface RouteDef {
  method: string;
  pattern: RegExp;
  handler: Handler;
}

function invalid(error: z.ZodError): never {
  const first = error.issues[0];
  throw new AppError("BAD_REQUEST", 400, `${first.path.join(".") || "body"}: ${first.message}`);
}

async function body<T extends z.ZodType>(req: Request, schema: T, optional = false): Promise<z.infer<T>> {
  const raw = decodeUtf8Body(await readRawBody(req, MAX_BODY_BYTES));
  if (optional && raw.trim() === "") return schema.parse({});
  requireJsonContentType(req);
  const parsed = schema.safeParse(parseJson(raw));
  if (!parsed.success) invalid(parsed.error);
  return parsed.data;
}

function supervisorOnly(me: Me, what: string): void {
  if (me.role !== "supervisor") throw new AppError("FORBIDDEN", 403, `Only supervisors may ${what}`);
}

export function buildAgentsHandler(config: AgentsConfig, env: Env, logger: Logger, deps: AgentsDeps = {}) {
  const sql = deps.sql ?? createSql(config.DATABASE_URL, { max: config.DB_MAX_CONNECTIONS });
  const verifier = deps.verifier ?? createTokenVerifier({ secret: config.SUPABASE_JWT_SECRET, jwksUrl: jwksUrlOf(config) });
  const outbox = deps.outbox !== undefined ? deps.outbox : buildChatRuntime(parseChatConfig(env), env, logger, { sql, llm: null }).outbox;
  const store = createAgentStore(sql);
  const hub = createFeedHub(sql, logger);
  const replySchema = schemas.reply(config.AGENTS_MAX_MESSAGE_CHARS);

  const ok = (data: unknown, status = 200) => jsonResponse(data, status, CORS);

  /** A SQL function of the API, called as the agent; its JSON result. */
  async function call(claims: VerifiedClaims, run: (tx: Tx, me: Me) => Promise<{ result: unknown }[]>): Promise<Record<string, unknown>> {
    return await store.asAgent(claims, async (tx, me) => {
      const [row] = await run(tx, me);
      return row.result as Record<string, unknown>;
    });
  }

  function deliver(outboxId: unknown, ctx: RequestContext): void {
    if (typeof outboxId === "number" && outbox) {
      runInBackground(() => outbox.deliver([outboxId], { requestId: ctx.requestId }), ctx.logger);
    }
  }

  /** A session the agent may see (RLS), else 404, or 403 when it is another agent's in their organisation. */
  async function visibleSession(tx: Tx, me: Me, id: string): Promise<Record<string, unknown>> {
    const [row] = await tx`select public.agent_session_json(${id}::uuid) as s`;
    if (row?.s) return row.s;
    const [other] = await sql`select 1 from public.agent_sessions s where s.id = ${id}::uuid and s.org_id = ${me.org_id}::uuid`;
    if (other) throw new AppError("FORBIDDEN", 403, "This session belongs to another agent");
    throw new AppError("NOT_FOUND", 404, "No such session");
  }

  async function listSessions(tx: Tx, where: postgres.PendingQuery<postgres.Row[]>, order: string, limit = 200, offset = 0) {
    const rows = await tx`
      select public.agent_session_json(s.id) as s from public.agent_sessions s
      where ${where} order by ${tx.unsafe(order)} limit ${limit} offset ${offset}`;
    return rows.map((r) => r.s).filter(Boolean);
  }

  async function replyTo(req: Request, ctx: RequestContext, claims: VerifiedClaims, sessionId: string | null, conversationId: string | null) {
    const input = await body(req, replySchema);
    const result = await call(claims, (tx) => tx`
      select public.agent_reply(
        coalesce(${sessionId}::uuid, public.agent_open_session_of(${conversationId}::uuid)),
        ${input.text}, ${input.client_message_id ?? null}) as result`);
    deliver(result.outbox_id, ctx);
    ctx.logFields.duplicate = result.duplicate;
    return ok(result, result.duplicate ? 200 : 201);
  }

  const routes: RouteDef[] = [
    { method: "GET", pattern: /^\/me$/, handler: async (_req, _ctx, claims) =>
      ok(await call(claims, (tx, me) => tx`select jsonb_build_object('agent', public.agent_profile_json(${me.id}::uuid)) as result`)) },
    { method: "PATCH", pattern: /^\/me$/, handler: async (req, _ctx, claims) => {
      const input = await body(req, schemas.status);
      return ok(await call(claims, (tx) => tx`select public.agent_set_status(${input.status}) as result`));
    } },
    { method: "GET", pattern: /^\/sessions\/waiting$/, handler: async (_req, _ctx, claims) =>
      ok(await store.asAgent(claims, async (tx) => ({
        sessions: await listSessions(tx, tx`s.status = 'waiting'`, "s.priority desc, s.queued_at, s.id"),
      }))) },
    { method: "GET", pattern: /^\/sessions\/my-chats\/([^/]+)$/, handler: async (_req, _ctx, claims, [who]) =>
      ok(await store.asAgent(claims, async (tx, me) => {
        const agentId = who === "me" ? me.id : who;
        if (!UUID.test(agentId)) throw new AppError("BAD_REQUEST", 400, "agent_id: must be a UUID or me");
        if (agentId !== me.id) supervisorOnly(me, "see other agents' chats");
        return { sessions: await listSessions(tx, tx`s.status = 'active' and s.agent_id = ${agentId}::uuid`, "s.assigned_at, s.id") };
      })) },
    { method: "GET", pattern: /^\/sessions\/all$/, handler: async (_req, _ctx, claims) =>
      ok(await store.asAgent(claims, async (tx, me) => {
        supervisorOnly(me, "see all sessions");
        return { sessions: await listSessions(tx, tx`s.status in ('waiting', 'active')`, "s.status desc, s.priority desc, s.queued_at, s.id", 1000) };
      })) },
    { method: "GET", pattern: /^\/sessions\/history$/, handler: async (req, _ctx, claims) => {
      const q = new URL(req.url).searchParams;
      const parsed = z.object({
        agent_id: z.union([uuid, z.literal("me")]).optional(),
        status: z.enum(["waiting", "active", "ended"]).optional(),
        search: z.string().trim().min(1).max(100).optional(),
        start_date: z.string().regex(DAY, "must be YYYY-MM-DD").optional(),
        end_date: z.string().regex(DAY, "must be YYYY-MM-DD").optional(),
        limit: z.coerce.number().int().min(1).max(500).default(50),
        offset: z.coerce.number().int().min(0).max(1_000_000).default(0),
      }).strict().safeParse(Object.fromEntries(q));
      if (!parsed.success) invalid(parsed.error);
      const f = parsed.data;
      return ok(await store.asAgent(claims, async (tx, me) => {
        const agentId = f.agent_id === "me" ? me.id : f.agent_id ?? (me.role === "supervisor" ? null : me.id);
        if (agentId && agentId !== me.id) supervisorOnly(me, "see other agents' history");
        const like = f.search ? `%${f.search.replace(/[\\%_]/g, (c) => `\\${c}`)}%` : null;
        const where = tx`
          (${agentId}::uuid is null or s.agent_id = ${agentId}::uuid)
          and (${f.status ?? null}::text is null or s.status = ${f.status ?? null})
          and (${f.start_date ?? null}::date is null or s.created_at >= ${f.start_date ?? null}::date)
          and (${f.end_date ?? null}::date is null or s.created_at < ${f.end_date ?? null}::date + 1)
          and (${like}::text is null or exists (
            select 1 from public.conversations c left join public.clients cl on cl.id = c.client_id
            left join public.chat_sessions cs on cs.conversation_id = c.id
            where c.id = s.conversation_id
              and (c.customer_phone ilike ${like} or cl.name ilike ${like} or cs.customer_name ilike ${like}
                   or c.metadata ->> 'customer_name' ilike ${like})))`;
        return { sessions: await listSessions(tx, where, "s.created_at desc, s.id", f.limit, f.offset), limit: f.limit, offset: f.offset };
      }));
    } },
    { method: "POST", pattern: /^\/sessions\/start\/([^/]+)$/, handler: async (req, _ctx, claims, [phone]) => {
      await body(req, schemas.empty, true);
      const decoded = decodeURIComponent(phone);
      if (decoded.length > 40) throw new AppError("BAD_REQUEST", 400, "phone: too long");
      const result = await call(claims, (tx) => tx`select public.agent_start_whatsapp(${decoded}) as result`);
      return ok(result, result.changed ? 201 : 200);
    } },
    { method: "GET", pattern: /^\/sessions\/([^/]+)$/, handler: async (_req, _ctx, claims, [id]) =>
      ok(await store.asAgent(claims, async (tx, me) => ({ session: await visibleSession(tx, me, id) }))) },
    { method: "POST", pattern: /^\/sessions\/([^/]+)\/assign$/, handler: async (req, _ctx, claims, [id]) => {
      const input = await body(req, schemas.assign, true);
      return ok(await call(claims, (tx) => tx`select public.agent_accept(${id}::uuid, ${input.agent_id ?? null}::uuid) as result`));
    } },
    { method: "POST", pattern: /^\/sessions\/([^/]+)\/end$/, handler: async (req, _ctx, claims, [id]) => {
      await body(req, schemas.empty, true);
      return ok(await call(claims, (tx) => tx`select public.agent_end(${id}::uuid) as result`));
    } },
    { method: "GET", pattern: /^\/sessions\/([^/]+)\/messages$/, handler: async (_req, _ctx, claims, [id]) =>
      ok(await store.asAgent(claims, async (tx, me) => {
        const session = await visibleSession(tx, me, id);
        const conversation = (session.conversation as { id: string }).id;
        const messages = await tx`
          select m.id, m.sender_type as sender, m.body, m.created_at, m.metadata ->> 'agent_name' as agent_name,
                 d.delivery
          from public.messages m
          left join lateral (
            -- Delivery state of a reply sent through the outbox (WhatsApp): the provider's report, else the row's status.
            select coalesce(o.delivery_status, o.status) as delivery from public.outbox o
            where o.message_id = m.id order by o.id desc limit 1) d on true
          where m.conversation_id = ${conversation}::uuid
          order by m.created_at, m.id limit 1000`;
        return { session, messages };
      })) },
    { method: "POST", pattern: /^\/sessions\/([^/]+)\/messages$/, handler: (req, ctx, claims, [id]) => replyTo(req, ctx, claims, id, null) },
    { method: "POST", pattern: /^\/sessions\/([^/]+)\/transfer$/, handler: async (req, _ctx, claims, [id]) => {
      const input = await body(req, schemas.transfer);
      return ok(await call(claims, (tx) => tx`
        select public.agent_transfer(${id}::uuid, ${input.agent_id ?? null}::uuid, ${input.skill ?? null}) as result`));
    } },
    { method: "POST", pattern: /^\/sessions\/([^/]+)\/escalate$/, handler: async (req, _ctx, claims, [id]) => {
      await body(req, schemas.empty, true);
      return ok(await call(claims, (tx) => tx`select public.agent_escalate(${id}::uuid) as result`));
    } },
    { method: "POST", pattern: /^\/queue$/, handler: async (req, _ctx, claims) => {
      const input = await body(req, schemas.queue);
      const result = await call(claims, (tx) => tx`
        select public.agent_queue_conversation(${input.conversation_id}::uuid, ${input.priority ?? null}::smallint,
          ${input.skill ?? null}, ${input.summary ?? null}) as result`);
      return ok(result, result.changed ? 201 : 200);
    } },
    { method: "POST", pattern: /^\/assign\/([^/]+)$/, handler: async (req, _ctx, claims, [cid]) => {
      const input = await body(req, schemas.assign, true);
      return ok(await call(claims, (tx) => tx`
        select public.agent_accept(public.agent_open_session_of(${cid}::uuid), ${input.agent_id ?? null}::uuid) as result`));
    } },
    { method: "POST", pattern: /^\/response\/([^/]+)$/, handler: (req, ctx, claims, [cid]) => replyTo(req, ctx, claims, null, cid) },
    { method: "POST", pattern: /^\/escalate\/([^/]+)$/, handler: async (req, _ctx, claims, [cid]) => {
      await body(req, schemas.empty, true);
      return ok(await call(claims, (tx) => tx`select public.agent_escalate(public.agent_open_session_of(${cid}::uuid)) as result`));
    } },
    { method: "GET", pattern: /^\/stats$/, handler: async (req, _ctx, claims) => {
      const q = new URL(req.url).searchParams;
      const parsed = z.object({
        from: z.string().regex(DAY, "must be YYYY-MM-DD").optional(),
        to: z.string().regex(DAY, "must be YYYY-MM-DD").optional(),
      }).strict().safeParse(Object.fromEntries(q));
      if (!parsed.success) invalid(parsed.error);
      const { from, to } = parsed.data;
      return ok(await store.asAgent(claims, async (tx, me) => {
        supervisorOnly(me, "read agents' statistics");
        const rows = await tx`
          select d.agent_id, a.display_name, d.day::text as day, d.sessions_accepted, d.sessions_transferred,
                 d.sessions_ended, d.first_responses, d.first_response_seconds_total, d.handling_seconds_total,
                 d.customer_messages_answered, d.agent_messages,
                 case when d.first_responses > 0 then d.first_response_seconds_total / d.first_responses end as avg_first_response_seconds,
                 case when d.sessions_ended > 0 then d.handling_seconds_total / d.sessions_ended end as avg_handling_seconds
          from public.agent_daily_metrics d join public.support_agents a on a.id = d.agent_id
          where (${from ?? null}::date is null or d.day >= ${from ?? null}::date)
            and (${to ?? null}::date is null or d.day <= ${to ?? null}::date)
          order by d.day, a.display_name`;
        return { from: from ?? null, to: to ?? null, days: rows };
      }));
    } },
    { method: "GET", pattern: /^\/canned-replies$/, handler: async (_req, _ctx, claims) =>
      ok(await store.asAgent(claims, async (tx, me) => {
        const rows = await tx`
          select r.shortcut, r.body as text from public.canned_replies r where r.org_id = ${me.org_id}::uuid order by r.shortcut`;
        return { canned_replies: rows };
      })) },
    { method: "GET", pattern: /^\/team$/, handler: async (_req, _ctx, claims) =>
      ok(await store.asAgent(claims, async (tx) => ({
        agents: await tx`
          select a.id, a.display_name, a.role, a.status, to_jsonb(a.skills) as skills, a.max_concurrent,
                 coalesce(l.active_count, 0) as active_sessions
          from public.support_agents a left join public.agent_load l on l.agent_id = a.id
          order by a.display_name, a.id`,
      }))) },
    { method: "GET", pattern: /^\/feed$/, handler: async (req, ctx, claims) => {
      const me = await store.asAgent(claims, async (_tx, me) => me);
      const last = req.headers.get("last-event-id") ?? new URL(req.url).searchParams.get("last_event_id");
      const cursor = parseEventId(last);
      if (last && !cursor) throw new AppError("BAD_REQUEST", 400, "Last-Event-ID: not an id of this feed");
      ctx.logFields.resumed = cursor !== null;
      const stream = feedStream({
        store, hub, claims, me, lastEventId: cursor, maxSeconds: config.AGENTS_FEED_MAX_SECONDS,
        heartbeatMs: config.AGENTS_FEED_HEARTBEAT_MS, pollMs: config.AGENTS_FEED_POLL_MS, logger: ctx.logger, signal: req.signal,
      });
      return new Response(stream, {
        status: 200,
        headers: { ...CORS, "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-store", "x-accel-buffering": "no" },
      });
    } },
  ];

  return instrumentHandler(FUNCTION_NAME, logger, async (req, ctx) => {
    try {
      let path = new URL(req.url).pathname;
      if (path.startsWith("/functions/v1")) path = path.slice("/functions/v1".length);
      if (!path.startsWith("/agents")) throw new AppError("NOT_FOUND", 404, "No such route");
      path = path.slice("/agents".length).replace(/\/+$/, "") || "/";
      if (req.method === "OPTIONS") return new Response(null, { status: 204, headers: CORS });
      const matches = routes.map((r) => ({ r, m: r.pattern.exec(path) })).filter((x) => x.m);
      if (matches.length === 0) throw new AppError("NOT_FOUND", 404, "No such route");
      const hit = matches.find((x) => x.r.method === req.method || (x.r.method === "GET" && req.method === "HEAD"));
      if (!hit) {
        const allow = [...new Set(matches.map((x) => x.r.method))].join(", ");
        throw new AppError("METHOD_NOT_ALLOWED", 405, `Use ${allow}`, { allow: `${allow}, OPTIONS` });
      }
      const params = hit.m!.slice(1).map((p) => decodeURIComponent(p));
      // Ids in the path are checked before the token is used, so a typo is a 400, not a database error.
      if (/^\/(sessions\/(?!waiting|all|history|start|my-chats)[^/]+|assign\/|response\/|escalate\/)/.test(path) && !UUID.test(params[0] ?? "")) {
        throw new AppError("BAD_REQUEST", 400, "The id in the path must be a UUID");
      }
      const claims = await verifier.verify(tokenOf(req, path === "/feed"));
      ctx.logFields.agent_user = claims.sub;
      return await hit.r.handler(req, ctx, claims, params);
    } catch (error) {
      if (error instanceof AppError) {
        try {
          for (const [k, v] of Object.entries(CORS)) error.headers[k] = v;
        } catch { /* frozen headers */ }
        throw error;
      }
      try {
        mapDatabaseError(error);
      } catch (mapped) {
        if (mapped instanceof AppError) throw mapped;
      }
      ctx.logger.error("agents request failed", { error: describeError(error) });
      throw new AppError("UNAVAILABLE", 503, "Temporarily unavailable, retry later", { "retry-after": "5", ...CORS });
    }
  });
}
