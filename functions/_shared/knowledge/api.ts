// The knowledge base's management API, function `knowledge`. Routes, under /functions/v1:
//
//   POST   knowledge/documents            JSON {"title", "body", "format"?, "tags"?, "url"?, "language"?, "external_id"?},
//                                         or a Markdown/text file: multipart/form-data (field "file", optional
//                                         "title", "url", "tags", "language", "external_id"), or a text/markdown body
//                                         with ?title=. → 201 {"document", "sections"}; 200 when external_id replaced one
//   GET    knowledge/documents            ?limit (1-200, 50) &offset → {"documents": [...]}
//   GET    knowledge/documents/{id}       → {"document", "sections": [...]}
//   PUT    knowledge/documents/{id}       JSON as for POST → {"document", "changed", "sections"}
//   DELETE knowledge/documents/{id}       → 204
//   GET    knowledge/search?q=&count=     → what the bot would retrieve: {"mode", "confident", "thresholds", "hits"}
//   POST   knowledge/process              service role only: embeds due sections → {"claimed", "embedded", "failed", "batches"}
//
// Callers: a supervisor's Supabase JWT (owners and admins of the organisation, and supervisors where
// support_agents exists), whose requests run as the `authenticated` role with the JWT's claims on
// the database session, so RLS decides what they see and change; or the service role key, with
// ?org_id= naming the organisation. A user editing several organisations names one with ?org_id=.
import { z } from "zod";
import type { Sql } from "../db/client.ts";
import { decodeUtf8Body, parseJson, readRawBody } from "../http/body.ts";
import { AppError } from "../http/errors.ts";
import { jsonResponse } from "../http/respond.ts";
import type { Logger } from "../log/logger.ts";
import { describeError, instrumentHandler, type RequestContext } from "../observability/http.ts";
import { runInBackground } from "../runtime/background.ts";
import type { Caller } from "./auth.ts";
import type { Embedder } from "./embedder.ts";
import { processEmbeddingJobs } from "./jobs.ts";
import type { KnowledgeSearch } from "./search.ts";

export const FUNCTION_NAME = "knowledge";
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const MAX_DOCUMENT_BYTES = 512 * 1024;

const documentSchema = z.object({
  title: z.string().trim().min(1, "title must not be empty").max(300),
  body: z.string().min(1, "body must not be empty").max(200_000),
  format: z.enum(["markdown", "text"]).optional().default("markdown"),
  tags: z.array(z.string().trim().min(1).max(60)).max(50).optional().default([]),
  url: z.string().trim().max(2000).regex(/^https?:\/\/\S+$/, "url must be an http(s) URL").nullable().optional().default(null),
  language: z.string().trim().regex(/^[A-Za-z]{2,8}(-[A-Za-z0-9]{1,8})*$/, "language must be a language tag such as en or fr-CA").optional().default("en"),
  external_id: z.string().trim().min(1).max(200).nullable().optional().default(null),
}).strict();
type DocumentInput = z.infer<typeof documentSchema>;

export type Route =
  | { kind: "documents" }
  | { kind: "document"; id: string }
  | { kind: "search" }
  | { kind: "process" };

export function routeOf(url: string): Route | null {
  let path = new URL(url).pathname;
  if (path.startsWith("/functions/v1/")) path = path.slice("/functions/v1".length);
  path = path.replace(/\/+$/, "");
  if (path === "/knowledge/documents") return { kind: "documents" };
  if (path === "/knowledge/search") return { kind: "search" };
  if (path === "/knowledge/process") return { kind: "process" };
  const m = /^\/knowledge\/documents\/([^/]+)$/.exec(path);
  if (m) {
    if (!UUID.test(m[1])) throw new AppError("NOT_FOUND", 404, "No such document");
    return { kind: "document", id: m[1].toLowerCase() };
  }
  return null;
}

function invalid(error: z.ZodError): never {
  const first = error.issues[0];
  throw new AppError("BAD_REQUEST", 400, `${first.path.join(".") || "body"}: ${first.message}`);
}

function allow(req: Request, methods: string[]): void {
  if (!methods.includes(req.method)) {
    throw new AppError("METHOD_NOT_ALLOWED", 405, `Use ${methods.join(" or ")}`, { allow: methods.join(", ") });
  }
}

/** A document from any of the accepted bodies: JSON, multipart with a file, or a bare Markdown/text body. */
export async function readDocument(req: Request, url: URL): Promise<DocumentInput> {
  const type = (req.headers.get("content-type") ?? "").toLowerCase();
  let candidate: unknown;
  if (/^application\/json\s*(;|$)/.test(type)) {
    candidate = parseJson(decodeUtf8Body(await readRawBody(req, MAX_DOCUMENT_BYTES)));
  } else if (/^multipart\/form-data\s*;/.test(type)) {
    const raw = await readRawBody(req, MAX_DOCUMENT_BYTES);
    let form: FormData;
    try {
      form = await new Response(raw as BodyInit, { headers: { "content-type": req.headers.get("content-type")! } }).formData();
    } catch {
      throw new AppError("BAD_REQUEST", 400, "Body is not valid multipart/form-data");
    }
    const file = form.get("file");
    if (!file || typeof file === "string") throw new AppError("BAD_REQUEST", 400, "file: a Markdown or text file is required");
    const name = (file as File).name ?? "";
    const text = decodeUtf8Body(new Uint8Array(await (file as File).arrayBuffer()));
    const field = (key: string) => {
      const v = form.get(key);
      return typeof v === "string" && v.trim() !== "" ? v : undefined;
    };
    candidate = {
      title: field("title") ?? titleFrom(text, name),
      body: text,
      format: field("format") ?? (/\.(txt|text)$/i.test(name) || (file as File).type === "text/plain" ? "text" : "markdown"),
      ...(field("tags") ? { tags: field("tags")!.split(",").map((t) => t.trim()).filter(Boolean) } : {}),
      ...(field("url") ? { url: field("url") } : {}),
      ...(field("language") ? { language: field("language") } : {}),
      ...(field("external_id") ? { external_id: field("external_id") } : {}),
    };
  } else if (/^text\/(markdown|plain)\s*(;|$)/.test(type)) {
    const text = decodeUtf8Body(await readRawBody(req, MAX_DOCUMENT_BYTES));
    const q = (key: string) => url.searchParams.get(key)?.trim() || undefined;
    candidate = {
      title: q("title") ?? titleFrom(text, ""),
      body: text,
      format: type.startsWith("text/plain") ? "text" : "markdown",
      ...(q("tags") ? { tags: q("tags")!.split(",").map((t) => t.trim()).filter(Boolean) } : {}),
      ...(q("url") ? { url: q("url") } : {}),
      ...(q("language") ? { language: q("language") } : {}),
      ...(q("external_id") ? { external_id: q("external_id") } : {}),
    };
  } else {
    throw new AppError("UNSUPPORTED_MEDIA_TYPE", 415, "Send application/json, multipart/form-data (file) or text/markdown");
  }
  const parsed = documentSchema.safeParse(candidate);
  if (!parsed.success) invalid(parsed.error);
  return parsed.data;
}

/** A title for an uploaded file: its first heading, else its file name, else its first line. */
export function titleFrom(text: string, fileName: string): string {
  const heading = /^ {0,3}#{1,6}[ \t]+(.+?)[ \t#]*$/m.exec(text)?.[1]?.trim();
  if (heading) return heading.slice(0, 300);
  const base = fileName.replace(/^.*[\\/]/, "").replace(/\.[A-Za-z0-9]+$/, "").trim();
  if (base) return base.slice(0, 300);
  return (text.split("\n").find((l) => l.trim())?.trim() ?? "").slice(0, 300);
}

const DOCUMENT_COLUMNS = "id, org_id, title, format, tags, url, language, external_id, created_at, updated_at";

export interface KnowledgeApiDeps {
  sql: Sql;
  authenticate(req: Request): Promise<Caller>;
  knowledge: KnowledgeSearch;
  embedder: Embedder | null;
  logger: Logger;
}

export function buildKnowledgeApi(deps: KnowledgeApiDeps) {
  const { sql, knowledge, embedder, logger } = deps;

  /**
   * Runs `work` in the caller's scope: a user's requests in a transaction as `authenticated` with
   * their claims (RLS applies), the service role's as the connection's role. Returns the org id the
   * request acts on as well.
   */
  async function scoped<T>(caller: Caller, url: URL, work: (tx: Sql, orgId: string) => Promise<T>): Promise<T> {
    const asked = url.searchParams.get("org_id");
    if (asked !== null && !UUID.test(asked)) throw new AppError("BAD_REQUEST", 400, "org_id: must be a UUID");
    if (caller.kind === "service") {
      if (!asked) throw new AppError("BAD_REQUEST", 400, "org_id: required with the service role key");
      const [org] = await sql`select 1 from public.orgs where id = ${asked}::uuid`;
      if (!org) throw new AppError("NOT_FOUND", 404, "No such organisation");
      return await work(sql, asked.toLowerCase());
    }
    return await sql.begin(async (tx) => {
      await tx`select set_config('role', 'authenticated', true), set_config('request.jwt.claims', ${JSON.stringify(caller.claims)}, true)`;
      const orgs = (await tx<{ id: string }[]>`select distinct id::text from public.knowledge_editor_org_ids() as id`).map((r) => r.id);
      if (orgs.length === 0) throw new AppError("FORBIDDEN", 403, "Only an organisation's supervisors manage its knowledge base");
      let orgId: string;
      if (asked) {
        if (!orgs.includes(asked.toLowerCase())) throw new AppError("FORBIDDEN", 403, "Not a supervisor of that organisation");
        orgId = asked.toLowerCase();
      } else if (orgs.length === 1) {
        orgId = orgs[0];
      } else {
        throw new AppError("BAD_REQUEST", 400, "org_id: required (you supervise several organisations)");
      }
      return await work(tx as unknown as Sql, orgId);
    }) as T;
  }

  function embedSoon(ctx: RequestContext) {
    if (!embedder) return;
    runInBackground(async () => {
      const report = await processEmbeddingJobs(sql, embedder, ctx.logger, { maxBatches: 4 });
      if (report.claimed) ctx.logger.info("knowledge sections embedded", { ...report });
    }, ctx.logger);
  }

  async function listDocuments(req: Request, url: URL, caller: Caller): Promise<Response> {
    const limit = intParam(url, "limit", 50, 1, 200);
    const offset = intParam(url, "offset", 0, 0, 1_000_000);
    return await scoped(caller, url, async (tx, orgId) => {
      const documents = await tx`
        select ${tx.unsafe(DOCUMENT_COLUMNS.split(", ").map((c) => `d.${c}`).join(", "))},
               (select count(*)::int from public.knowledge_sections s where s.document_id = d.id) as sections
        from public.knowledge_documents d where d.org_id = ${orgId}::uuid
        order by d.updated_at desc, d.id limit ${limit} offset ${offset}`;
      return jsonResponse({ documents, limit, offset });
    });
  }

  async function getDocument(url: URL, caller: Caller, id: string): Promise<Response> {
    return await scoped(caller, url, async (tx, orgId) => {
      const [document] = await tx`
        select ${tx.unsafe(DOCUMENT_COLUMNS)}, body from public.knowledge_documents
        where id = ${id}::uuid and org_id = ${orgId}::uuid`;
      if (!document) throw new AppError("NOT_FOUND", 404, "No such document");
      const vectors = (await tx<{ on: boolean }[]>`select public.knowledge_vectors_enabled() as on`)[0].on;
      const sections = await tx`
        select s.id, s.ordinal, s.heading, s.content, s.part, s.parts,
               ${vectors ? tx.unsafe("(s.embedding is not null)") : tx.unsafe("false")} as embedded
        from public.knowledge_sections s where s.document_id = ${id}::uuid order by s.ordinal`;
      return jsonResponse({ document, sections });
    });
  }

  async function createDocument(req: Request, url: URL, caller: Caller, ctx: RequestContext): Promise<Response> {
    const input = await readDocument(req, url);
    const result = await scoped(caller, url, async (tx, orgId) => {
      const [row] = await tx<{ id: string; replaced: boolean }[]>`
        insert into public.knowledge_documents (org_id, title, body, format, tags, url, language, external_id)
        values (${orgId}::uuid, ${input.title}, ${input.body}, ${input.format}, ${input.tags}::text[], ${input.url},
                ${input.language}, ${input.external_id})
        on conflict (org_id, external_id) do update set
          title = excluded.title, body = excluded.body, format = excluded.format, tags = excluded.tags,
          url = excluded.url, language = excluded.language
        returning id::text, (xmax <> 0) as replaced`;
      return { ...(await describeDocument(tx, row.id)), replaced: row.replaced };
    });
    ctx.logFields.document_id = result.document.id;
    embedSoon(ctx);
    const { replaced, ...body } = result;
    return jsonResponse(body, replaced ? 200 : 201);
  }

  async function updateDocument(req: Request, url: URL, caller: Caller, id: string, ctx: RequestContext): Promise<Response> {
    const input = await readDocument(req, url);
    const result = await scoped(caller, url, async (tx, orgId) => {
      const [before] = await tx<{ hash: Uint8Array }[]>`
        select content_hash as hash from public.knowledge_documents where id = ${id}::uuid and org_id = ${orgId}::uuid for update`;
      if (!before) throw new AppError("NOT_FOUND", 404, "No such document");
      const [after] = await tx<{ hash: Uint8Array }[]>`
        update public.knowledge_documents set title = ${input.title}, body = ${input.body}, format = ${input.format},
          tags = ${input.tags}::text[], url = ${input.url}, language = ${input.language}, external_id = ${input.external_id}
        where id = ${id}::uuid and org_id = ${orgId}::uuid
        returning content_hash as hash`;
      const changed = !sameBytes(before.hash, after.hash);
      return { ...(await describeDocument(tx, id)), changed };
    });
    ctx.logFields.document_id = id;
    if (result.changed) embedSoon(ctx);
    return jsonResponse(result);
  }

  async function deleteDocument(url: URL, caller: Caller, id: string): Promise<Response> {
    return await scoped(caller, url, async (tx, orgId) => {
      const rows = await tx`delete from public.knowledge_documents where id = ${id}::uuid and org_id = ${orgId}::uuid returning id`;
      if (rows.length === 0) throw new AppError("NOT_FOUND", 404, "No such document");
      return new Response(null, { status: 204 });
    });
  }

  async function describeDocument(tx: Sql, id: string) {
    const [document] = await tx`select ${tx.unsafe(DOCUMENT_COLUMNS)} from public.knowledge_documents where id = ${id}::uuid`;
    const [sections] = await tx<{ sections: number }[]>`
      select count(*)::int as sections from public.knowledge_sections where document_id = ${id}::uuid`;
    return { document, sections: sections.sections };
  }

  async function searchRoute(req: Request, url: URL, caller: Caller): Promise<Response> {
    const q = (url.searchParams.get("q") ?? "").trim();
    if (!q) throw new AppError("BAD_REQUEST", 400, "q: a question is required");
    if (q.length > 1000) throw new AppError("BAD_REQUEST", 400, "q: at most 1000 characters");
    const count = intParam(url, "count", 5, 1, 50);
    // Authorise in the caller's scope; search as the service (knowledge_search is the service role's).
    const orgId = await scoped(caller, url, (_tx, org) => Promise.resolve(org));
    const result = await knowledge.search(orgId, q, { count, signal: req.signal });
    return jsonResponse({ query: q, ...result });
  }

  async function processRoute(req: Request, caller: Caller, ctx: RequestContext): Promise<Response> {
    if (caller.kind !== "service") throw new AppError("FORBIDDEN", 403, "Only the service role processes embeddings");
    if (!embedder) return jsonResponse({ claimed: 0, embedded: 0, failed: 0, batches: 0, embeddings: "off" });
    const report = await processEmbeddingJobs(sql, embedder, ctx.logger, { signal: req.signal });
    ctx.logFields.embedded = report.embedded;
    return jsonResponse(report);
  }

  return instrumentHandler(FUNCTION_NAME, logger, async (req, ctx) => {
    const url = new URL(req.url);
    const route = routeOf(req.url);
    if (!route) throw new AppError("NOT_FOUND", 404, "No such route");
    try {
      switch (route.kind) {
        case "documents": {
          allow(req, ["GET", "POST"]);
          const caller = await deps.authenticate(req);
          return req.method === "GET" ? await listDocuments(req, url, caller) : await createDocument(req, url, caller, ctx);
        }
        case "document": {
          allow(req, ["GET", "PUT", "DELETE"]);
          const caller = await deps.authenticate(req);
          if (req.method === "GET") return await getDocument(url, caller, route.id);
          if (req.method === "PUT") return await updateDocument(req, url, caller, route.id, ctx);
          return await deleteDocument(url, caller, route.id);
        }
        case "search":
          allow(req, ["GET"]);
          return await searchRoute(req, url, await deps.authenticate(req));
        case "process":
          allow(req, ["POST"]);
          return await processRoute(req, await deps.authenticate(req), ctx);
      }
    } catch (error) {
      if (error instanceof AppError) throw error;
      const code = (error as { code?: unknown })?.code;
      if (typeof code === "string" && (code.startsWith("22") || code.startsWith("23"))) {
        ctx.logger.warn("request refused by the database", { error: describeError(error) });
        throw new AppError("BAD_REQUEST", 400, "The document could not be stored as sent");
      }
      if (code === "42501") throw new AppError("FORBIDDEN", 403, "Not allowed");
      ctx.logger.error("knowledge request failed", { error: describeError(error) });
      throw new AppError("UNAVAILABLE", 503, "Temporarily unavailable, retry later", { "retry-after": "5" });
    }
  });
}

function intParam(url: URL, name: string, fallback: number, min: number, max: number): number {
  const raw = url.searchParams.get(name);
  if (raw === null || raw.trim() === "") return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) throw new AppError("BAD_REQUEST", 400, `${name}: an integer from ${min} to ${max}`);
  return n;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
