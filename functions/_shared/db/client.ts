// postgres.js clients for edge functions: few connections per isolate, prepared statements off when
// the URL points at a transaction pooler (Supavisor on port 6543 cannot keep them), and server-side
// timeouts so a stuck statement frees its connection soon after the function has stopped waiting.
import postgres from "postgres";

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

export function createSql(url: string, options: DbOptions = {}): Sql {
  if (!url) throw new Error("createSql: a database URL is required");
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
