// postgres.js clients for edge functions: few connections per isolate, prepared statements off when
// the URL points at a transaction pooler (Supavisor on port 6543 cannot keep them), and server-side
// timeouts so a stuck statement frees its connection soon after the function has stopped waiting.
// Under Deno older than 2.6 (Supabase's hosted runtime is 2.1.4), a guard drops one harmless error
// postgres.js throws there under load, which would otherwise end the process: see guardStrayWrites().
import postgres from "postgres";
import { createLogger } from "../log/logger.ts";

export type Sql = postgres.Sql;

export interface DbOptions {
  /** Connections per isolate; the pooler team recommends one to four for serverless. */
  max?: number;
  /** statement_timeout sent at connection start (ignored by some poolers; SQL functions set their own). */
  statementTimeoutMs?: number;
  connectTimeoutSeconds?: number;
}

export function isTransactionPooler(url: string): boolean {
  try {
    const u = new URL(url);
    return u.port === "6543" || u.searchParams.get("pgbouncer") === "true";
  } catch {
    return false;
  }
}

/**
 * The Deno release running this code, as [major, minor]; null outside Deno (Node under vitest).
 * Supabase's runtime reports "supabase-edge-runtime-<v> (compatible with Deno v2.1.4)".
 */
export function runtimeDenoVersion(
  reported: unknown = (globalThis as { Deno?: { version?: { deno?: unknown } } }).Deno?.version?.deno,
): [number, number] | null {
  if (typeof reported !== "string") return null;
  const match = /Deno v(\d+)\.(\d+)/.exec(reported) ?? /^(\d+)\.(\d+)\./.exec(reported);
  return match ? [Number(match[1]), Number(match[2])] : null;
}

/**
 * Deno before 2.6 can still run a setImmediate callback after an I/O callback in the same
 * event-loop turn has cancelled it. postgres.js 3.4.9 gathers small writes and sends them from such
 * a callback. Once 1 KiB is pending (many queries pipelined on one connection under load), it sends
 * at once and cancels the callback. The callback then runs anyway, finds nothing pending, and writes
 * null to the socket. Deno's stream throws "May not write null values to stream" before anything
 * changes, from a timer, where no caller can catch it. Uncaught, it ends the process, and every
 * request in flight with it.
 *
 * The crash was reproduced with a bare Deno.serve and 64 concurrent clients under Deno 2.1.4 and
 * 2.5.7, but not under 2.6.0 or 2.9.6 (docs/deno-versions.md; denoland/deno#29262).
 */
export function strayWritesPossible(version = runtimeDenoVersion()): boolean {
  if (!version) return false;
  const [major, minor] = version;
  return major < 2 || (major === 2 && minor < 6);
}

/** The error a stray postgres.js write throws (see strayWritesPossible), and nothing else. */
export function isStrayPostgresWrite(error: unknown): boolean {
  return error instanceof TypeError && error.message === "May not write null values to stream" &&
    typeof error.stack === "string" && /\bnextWrite\b/.test(error.stack) &&
    /[\\/]postgres[\\/]src[\\/]connection\.js/.test(error.stack);
}

let guarded = false;
let strayWrites = 0;

/** How many stray postgres.js writes this isolate has dropped. */
export function strayWritesDropped(): number {
  return strayWrites;
}

/**
 * On a Deno where stray writes happen, marks that one uncaught error as handled, so that the
 * process keeps running. This is safe because the stray callback had nothing to send: postgres.js
 * has already sent every byte and cleared its state, and the throw comes before any change. Tried
 * the other way: postgres.js's max_pipeline 1 keeps the pending bytes small, but sql.begin then fails
 * with UNSAFE_TRANSACTION whenever it lands on a busy connection.
 */
export function guardStrayWrites(version = runtimeDenoVersion()): void {
  if (guarded || !strayWritesPossible(version)) return;
  const target = globalThis as unknown as { addEventListener?: EventTarget["addEventListener"] };
  if (typeof target.addEventListener !== "function") return;
  guarded = true;
  const logger = createLogger({ service: "switchboard" });
  target.addEventListener("error", (event) => {
    if (!isStrayPostgresWrite((event as ErrorEvent).error)) return;
    event.preventDefault();
    strayWrites += 1;
    logger.warn("dropped a stray postgres.js write (Deno before 2.6)", { stray_writes: strayWrites });
  });
}

export function createSql(url: string, options: DbOptions = {}): Sql {
  if (!url) throw new Error("createSql: a database URL is required");
  guardStrayWrites();
  return postgres(url, {
    max: options.max ?? 4,
    prepare: !isTransactionPooler(url),
    connect_timeout: options.connectTimeoutSeconds ?? 2,
    idle_timeout: 60,
    max_lifetime: 60 * 30,
    onnotice: () => {},
    connection: options.statementTimeoutMs
      ? { statement_timeout: options.statementTimeoutMs, application_name: "switchboard" }
      : { application_name: "switchboard" },
  });
}
