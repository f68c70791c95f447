// Moving accepted WhatsApp messages from the inbox into their conversations (migration
// 20261130000305_whatsapp_inbox.sql): the rows the request accepted, right after its answer, or (ids
// null) the rows a dead worker left, from the sweep. Returns the conversations with a new message
// for the bot to answer.
import type { Sql } from "../db/client.ts";

export async function intakeWhatsApp(sql: Sql, ids: number[] | null, limit = 200): Promise<string[]> {
  const [{ result }] = await sql`select public.whatsapp_process_inbox(${ids}::bigint[], ${limit}) as result`;
  return (result?.conversations ?? []) as string[];
}
