// Wraps a handler with what every function needs: a request id (the caller's x-request-id when sane,
// else a new one) on every log line, on the response and in error bodies; errors turned into
// responses by errorResponse() only; one access log line; request, latency and error metrics; and
// the X-Response-Time and X-Switchboard-Version headers on every answer. A request body the handler
// did not read (an early refusal) is dropped, within bounds, before the answer goes out, so that
// Deno 2.1 (Supabase's hosted line) does not reset the connection under it (http/body.ts).
//
//   export default function buildHandler(env) {
//     return instrumentHandler("my-fn", logger, async (req, ctx) => { … ctx.requestId … ctx.logger … });
//   }
//
// ctx.logger is a child logger carrying request_id: hand it (and ctx.requestId) to background tasks
// (runInBackground(task, ctx.logger)) and outbound calls (policy.fetch(…, { requestId })) so the whole
// piece of work can be followed in the logs.
import { discardUnreadBody } from "../http/body.ts";
import { AppError, errorResponse } from "../http/errors.ts";
import type { Logger } from "../log/logger.ts";
import { requestIdFrom } from "../runtime/request-id.ts";
import { VERSION } from "../version.ts";
import { metrics } from "./index.ts";

export interface RequestContext {
  requestId: string;
  logger: Logger;
  /** performance.now() when the request arrived. */
  startedAt: number;
  /** Fields the handler adds to the access log line (never secrets, bodies or SQL parameters). */
  logFields: Record<string, unknown>;
}

export type ContextHandler = (req: Request, ctx: RequestContext) => Promise<Response>;

/** An error as a log field: its kind and code, never a stack; Postgres messages (which can quote
 *  parameters) are left out. */
export function describeError(error: unknown): Record<string, unknown> {
  if (error instanceof AppError) return { name: error.name, code: error.code };
  if (error && typeof error === "object") {
    const e = error as { name?: unknown; code?: unknown; message?: unknown };
    const name = typeof e.name === "string" ? e.name : "Error";
    const out: Record<string, unknown> = { name };
    if (typeof e.code === "string") out.code = e.code;
    if (name !== "PostgresError" && typeof e.message === "string") out.message = e.message.slice(0, 200);
    return out;
  }
  return { name: typeof error };
}

export function instrumentHandler(fn: string, logger: Logger, handle: ContextHandler): (req: Request) => Promise<Response> {
  return async function instrumented(req: Request): Promise<Response> {
    const requestId = requestIdFrom(req);
    const ctx: RequestContext = {
      requestId,
      logger: logger.child({ request_id: requestId, function: fn }),
      startedAt: performance.now(),
      logFields: {},
    };
    let response: Response;
    let code: string | null = null;
    try {
      response = await handle(req, ctx);
    } catch (error) {
      if (error instanceof AppError) {
        code = error.code;
        if (error.status >= 500) ctx.logger.error("request failed", { code: error.code, ...ctx.logFields });
      } else {
        code = "INTERNAL";
        ctx.logger.error("unhandled error", { error: describeError(error), ...ctx.logFields });
      }
      response = errorResponse(error, requestId);
    }
    const ms = performance.now() - ctx.startedAt;
    try {
      response.headers.set("x-request-id", requestId);
      response.headers.set("x-response-time", `${ms.toFixed(1)}ms`);
      response.headers.set("x-switchboard-version", VERSION);
    } catch {
      // A response with immutable headers (e.g. from fetch) is passed through as it is.
    }
    metrics.observeRequest(fn, response.status, ms);
    if (code) metrics.error(fn, code);
    const level = response.status >= 500 ? "error" : response.status >= 400 ? "warn" : "info";
    ctx.logger[level]("request", {
      method: req.method,
      path: safePath(req.url),
      status: response.status,
      duration_ms: Math.round(ms * 10) / 10,
      ...(code ? { code } : {}),
      ...ctx.logFields,
    });
    await discardUnreadBody(req);
    return response;
  };
}

/** The path without query string (which can carry tokens), cut to a sane length. */
function safePath(url: string): string {
  try {
    return new URL(url).pathname.slice(0, 200);
  } catch {
    return "(invalid)";
  }
}
