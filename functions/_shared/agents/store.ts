// Database access as the signed-in agent: each unit of work is one transaction in which the verified
// claims are set as request.jwt.claims and the role is `authenticated` (as PostgREST does), so
// auth.uid() is the agent's user, RLS decides what reads return, and the SQL functions of
// 20261130000410_agent_api.sql check the caller themselves. Their SQLSTATEs become AppErrors here.
import type postgres from "postgres";
import type { Sql } from "../db/client.ts";
import { AppError } from "../http/errors.ts";
import type { VerifiedClaims } from "./auth.ts";

// deno-lint-ignore ban-types
export type Tx = postgres.TransactionSql<{}>;

export interface Me {
  id: string;
  org_id: string;
  role: "agent" | "supervisor";
  display_name: string;
}

const SQLSTATES: Record<string, [import("../http/errors.ts").ErrorCode, number]> = {
  SBU01: ["UNAUTHORIZED", 401],
  SBF03: ["FORBIDDEN", 403],
  SBN04: ["NOT_FOUND", 404],
  SBC09: ["CONFLICT", 409],
  SBB00: ["BAD_REQUEST", 400],
};

/** Postgres errors the caller caused become 4xx; anything else is rethrown as it is. */
export function mapDatabaseError(error: unknown): never {
  const e = error as { code?: string; detail?: string };
  const known = e?.code ? SQLSTATES[e.code] : undefined;
  if (known) throw new AppError(known[0], known[1], e.detail ?? known[0]);
  if (typeof e?.code === "string" && e.code.startsWith("22")) {
    throw new AppError("BAD_REQUEST", 400, "A value in the request is not valid");
  }
  throw error;
}

export function createAgentStore(sql: Sql) {
  /** Runs fn as the agent whose claims are given; the agent row is looked up first (401 if none). */
  async function asAgent<T>(claims: VerifiedClaims, fn: (tx: Tx, me: Me) => Promise<T>): Promise<T> {
    try {
      return await sql.begin(async (tx) => {
        const [me] = await tx<Me[]>`
          select set_config('request.jwt.claims', ${JSON.stringify(claims)}, true) as _c,
                 set_config('role', 'authenticated', true) as _r`.then(() => tx<Me[]>`
          select a.id, a.org_id, a.role, a.display_name from public.support_agents a where a.id = public.current_agent_id()`);
        if (!me) throw new AppError("UNAUTHORIZED", 401, "The signed-in user is not an agent");
        return await fn(tx, me);
      }) as T;
    } catch (error) {
      if (error instanceof AppError) throw error;
      return mapDatabaseError(error);
    }
  }
  return { asAgent };
}

export type AgentStore = ReturnType<typeof createAgentStore>;
