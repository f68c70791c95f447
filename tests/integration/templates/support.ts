// Shared by the template-builder integration suites: the function's handler in process (as the Deno
// server would build it) on a real Postgres, and a session driven to a final template.
import buildHandler from "../../../functions/template-builder/handler.ts";
import type { TemplateBuilderDeps } from "../../../functions/template-builder/handler.ts";

export const BASE = "http://localhost/functions/v1/template-builder";

export type Handler = (req: Request) => Promise<Response>;

export function builder(env: Record<string, string | undefined>, deps?: TemplateBuilderDeps): Handler {
  return buildHandler({ LOG_LEVEL: "error", ...env }, deps);
}

export async function call(
  handler: Handler,
  method: string,
  route: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: any; headers: Headers }> {
  const init: RequestInit = { method, headers: { ...headers } };
  if (body !== undefined) {
    init.body = typeof body === "string" ? body : JSON.stringify(body);
    (init.headers as Record<string, string>)["content-type"] = "application/json";
  }
  const res = await handler(new Request(`${BASE}/${route}`, init));
  const text = await res.text();
  let json: unknown = null;
  try {
    json = JSON.parse(text);
  } catch {
    json = text;
  }
  return { status: res.status, body: json, headers: res.headers };
}

export const ONE_MESSAGE = [
  "category: utility",
  "language: en_US",
  "name: NAME",
  "body: Hi {{1}}, your visit is tomorrow at {{2}}. Reply below to change it.",
  "examples: Maria | 10:30 AM",
  "buttons: quick reply Reschedule",
].join("\n");

/** A guided session in state final, its template named `name`. */
export async function finalSession(handler: Handler, name: string, headers: Record<string, string> = {}): Promise<string> {
  const started = await call(handler, "GET", "session/new", undefined, headers);
  const id = started.body.session_id as string;
  const review = await call(handler, "POST", "chat", { session_id: id, message: ONE_MESSAGE.replace("NAME", name) }, headers);
  if (review.body.state !== "review") throw new Error(`expected review, got ${JSON.stringify(review.body)}`);
  const final = await call(handler, "POST", "chat", { session_id: id, message: "confirm" }, headers);
  if (final.body.state !== "final") throw new Error(`expected final, got ${JSON.stringify(final.body)}`);
  return id;
}
