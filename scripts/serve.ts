// The local functions server: every functions/<name>/handler.ts on one port, at
// /functions/v1/<name>, as Supabase's own stack mounts them. Runs under Deno, like the edge.
//
//   deno run --allow-net --allow-env --allow-read --allow-sys scripts/serve.ts
//
// Environment: PORT (default 54321; 0 picks a free port), HOST (default 127.0.0.1), and whatever the
// functions read (DATABASE_URL, TELNYX_PUBLIC_KEY, ...): each handler is built once, at start, from
// Deno.env.toObject(). SWITCHBOARD_FUNCTIONS_DIR points at another functions folder (tests only).
//
// What a function sees: Supabase strips the /functions/v1 prefix before the function gets the
// request, so `POST /functions/v1/telnyx-webhook?x=1` reaches the handler as `POST /telnyx-webhook?x=1`
// with the same method, headers and body. A handler whose factory throws (a missing or malformed
// secret) is reported at start and answers 503 NOT_CONFIGURED; the other functions still serve.
// SIGINT/SIGTERM stop accepting requests, finish those in flight, then drain background work
// (functions/_shared/runtime/background.ts) before exiting.
//
// LOCAL ONLY (scripts/local-site.ts): /dashboard/ serves the built agents' dashboard and /auth/v1/ a
// stand-in for Supabase Auth's password sign-in (seeded users only), so that the dashboard runs here as
// it does against a project. SWITCHBOARD_DASHBOARD_DIR points at another build (tests).
import { discardUnreadBody } from "../functions/_shared/http/body.ts";
import { settleBackground } from "../functions/_shared/runtime/background.ts";
import { createLocalSite } from "./local-site.ts";

type Handler = (req: Request) => Promise<Response>;
type BuildHandler = (env: Record<string, string | undefined>) => Handler | Promise<Handler>;

interface Mounted {
  name: string;
  handler?: Handler;
  /** Why the function cannot answer; set instead of handler. */
  failure?: { code: "NOT_CONFIGURED" | "UNAVAILABLE"; message: string };
}

const PREFIX = "/functions/v1";
const DRAIN_TIMEOUT_MS = 10_000;

const functionsDir = Deno.env.get("SWITCHBOARD_FUNCTIONS_DIR")
  ? new URL(`file://${await Deno.realPath(Deno.env.get("SWITCHBOARD_FUNCTIONS_DIR")!)}/`)
  : new URL("../functions/", import.meta.url);

function say(line: string) {
  console.log(`[serve] ${line}`);
}
function complain(line: string) {
  console.error(`[serve] ${line}`);
}

function json(body: unknown, status: number): Response {
  return new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });
}

async function discover(): Promise<string[]> {
  const names: string[] = [];
  for await (const entry of Deno.readDir(functionsDir)) {
    if (!entry.isDirectory || entry.name.startsWith("_") || entry.name.startsWith(".")) continue;
    try {
      const info = await Deno.stat(new URL(`${entry.name}/handler.ts`, functionsDir));
      if (info.isFile) names.push(entry.name);
    } catch {
      // A folder without handler.ts is not a function (yet).
    }
  }
  return names.sort();
}

/** Imports and builds one function. Never throws: a failure is kept and answered with 503. */
async function mount(name: string, env: Record<string, string | undefined>): Promise<Mounted> {
  let build: BuildHandler;
  try {
    const module = await import(new URL(`${name}/handler.ts`, functionsDir).href);
    build = module.default;
    if (typeof build !== "function") {
      throw new Error("handler.ts has no default export buildHandler(env)");
    }
  } catch (error) {
    complain(`${name}: cannot load handler.ts: ${describe(error)}`);
    return { name, failure: { code: "UNAVAILABLE", message: `Function ${name} failed to load; see the server log` } };
  }
  try {
    const handler = await build(env);
    if (typeof handler !== "function") throw new Error("buildHandler(env) did not return a function");
    return { name, handler };
  } catch (error) {
    complain(`${name}: NOT CONFIGURED: ${describe(error)}`);
    return {
      name,
      failure: { code: "NOT_CONFIGURED", message: `Function ${name} is not configured; see the server log` },
    };
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

const env = Deno.env.toObject();
const names = await discover();
const functions = new Map<string, Mounted>();
for (const name of names) functions.set(name, await mount(name, env));

/**
 * The request a function gets on Supabase: same method, headers and body, path without /functions/v1.
 * Built from its parts rather than `new Request(url, req)`: copying req.signal would opt every request
 * into Deno's legacy "signal aborts once the response is sent" behaviour (and print a warning).
 */
function forwarded(req: Request, url: URL, rest: string): Request {
  const target = new URL(url);
  target.pathname = rest;
  const init: RequestInit & { duplex?: "half" } = { method: req.method, headers: req.headers, redirect: "manual" };
  if (req.body) {
    init.body = req.body;
    init.duplex = "half";
  }
  return new Request(target, init);
}

/**
 * An answer of the server's own, given without reading the request: the unread body is dropped first
 * (within bounds), as instrumentHandler does for the functions, or Deno 2.1 resets the connection.
 */
async function answer(req: Request, body: unknown, status: number): Promise<Response> {
  await discardUnreadBody(req);
  return json(body, status);
}

const dashboardDir = Deno.env.get("SWITCHBOARD_DASHBOARD_DIR")
  ? new URL(`file://${Deno.env.get("SWITCHBOARD_DASHBOARD_DIR")!.replace(/\/?$/, "/")}`)
  : new URL("../dashboard/dist/", import.meta.url);
const localSite = createLocalSite(env, dashboardDir);

async function route(req: Request): Promise<Response> {
  const url = new URL(req.url);
  const local = localSite(req);
  if (local) return await local;
  if (url.pathname === PREFIX || url.pathname === `${PREFIX}/`) {
    return await answer(req, { status: "ok", functions: [...functions.keys()] }, 200);
  }
  if (!url.pathname.startsWith(`${PREFIX}/`)) {
    return await answer(req, { error: { code: "NOT_FOUND", message: `Functions are served under ${PREFIX}/<name>` } }, 404);
  }
  const rest = url.pathname.slice(PREFIX.length); // "/<name>" or "/<name>/..."
  const name = rest.split("/")[1] ?? "";
  const fn = functions.get(name);
  if (!fn) {
    return await answer(req, { error: { code: "NOT_FOUND", message: `No function named "${name}"` } }, 404);
  }
  if (!fn.handler) {
    return await answer(req, { error: fn.failure }, 503);
  }
  try {
    return await fn.handler(forwarded(req, url, rest));
  } catch (error) {
    // Handlers turn their own errors into responses; this is the last line, and says nothing.
    complain(`${name}: handler threw: ${describe(error)}`);
    return json({ error: { code: "INTERNAL", message: "Internal error" } }, 500);
  }
}

const port = Number(Deno.env.get("PORT") ?? "54321");
const hostname = Deno.env.get("HOST") ?? "127.0.0.1";
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  complain(`PORT must be a port number, got ${Deno.env.get("PORT")}`);
  Deno.exit(2);
}

const server = Deno.serve({
  port,
  hostname,
  onListen({ hostname, port }) {
    const base = `http://${hostname}:${port}`;
    say(`Deno ${Deno.version.deno}`);
    for (const fn of functions.values()) {
      say(
        fn.handler
          ? `mounted ${fn.name} at ${base}${PREFIX}/${fn.name}`
          : `mounted ${fn.name} at ${base}${PREFIX}/${fn.name} (answers 503 ${fn.failure!.code})`,
      );
    }
    if (functions.size === 0) say(`no functions found in ${functionsDir.pathname}`);
    say(`listening on ${base}`);
  },
}, route);

let stopping = false;
async function shutdown(signal: string) {
  if (stopping) {
    complain(`${signal} again: exiting without draining`);
    Deno.exit(130);
  }
  stopping = true;
  say(`${signal}: finishing requests in flight and background work`);
  const drained = (async () => {
    await server.shutdown();
    await settleBackground();
    return true;
  })();
  const ok = await Promise.race([
    drained,
    new Promise<boolean>((resolve) => setTimeout(() => resolve(false), DRAIN_TIMEOUT_MS)),
  ]);
  if (!ok) complain(`background work still running after ${DRAIN_TIMEOUT_MS} ms: exiting anyway`);
  say("stopped");
  // Database pools hold sockets open; nothing else is left to wait for.
  Deno.exit(0);
}
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  Deno.addSignalListener(signal, () => void shutdown(signal));
}
