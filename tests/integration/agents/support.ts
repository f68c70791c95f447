// Shared fixtures for the human-agents suites: a database with the demo seed (two agents and a
// supervisor), tokens signed like Supabase Auth's, and the agents' handler in process.
import path from "node:path";
import { fileURLToPath } from "node:url";
import type postgres from "postgres";
import { signAgentToken } from "../../../scripts/agent-token.mjs";

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");
export const ORG = "00000000-0000-4000-8000-000000000001";
export const ALEX = { user: "00000000-0000-4000-8000-000000000701", agent: "00000000-0000-4000-8000-000000000711" };
export const BLAIR = { user: "00000000-0000-4000-8000-000000000702", agent: "00000000-0000-4000-8000-000000000712" };
export const MORGAN = { user: "00000000-0000-4000-8000-000000000703", agent: "00000000-0000-4000-8000-000000000713" };
export const SECRET = "test-secret-test-secret-test-secret-0123456789";

export async function loadSeed(sql: postgres.Sql): Promise<void> {
  await sql.file(path.join(ROOT, "supabase/seed.sql"));
}

export function token(user: string, options: { secret?: string; ttlSeconds?: number } = {}): Promise<string> {
  return signAgentToken(options.secret ?? SECRET, { sub: user, email: "x@example.com", ttlSeconds: options.ttlSeconds ?? 600 });
}

/** A conversation on `channel` with one customer message, handed over to people. Returns its id. */
export async function queuedConversation(sql: postgres.Sql, channel: "web" | "whatsapp" = "whatsapp", org = ORG, text = "I need a person"): Promise<string> {
  const wa = `1416555${Math.floor(1000 + Math.random() * 8999)}`;
  const [{ id }] = await sql`
    insert into public.conversations (org_id, channel, external_id, customer_phone, metadata)
    values (${org}, ${channel}, ${`t:${crypto.randomUUID()}`}, ${`+${wa}`},
            ${sql.json(channel === "whatsapp" ? { wa_id: wa, phone_number_id: "100000000000001" } : {})})
    returning id`;
  await sql`select public.chat_add_customer_message(${id}::uuid, ${text})`;
  await sql`select public.chat_request_handoff(${id}::uuid, 1::smallint, 'furnace', 'rules')`;
  return id;
}
