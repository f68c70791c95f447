// Nothing accepted is lost: WhatsApp messages are acknowledged once stored, then the process answering
// them is killed (SIGKILL: some messages still in the inbox, others mid-turn waiting on an LLM that
// never answers). A fresh process's sweep answers every one
// of them, once, after the dead worker's lease runs out.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startGraphApi, type GraphApi } from "../../../scripts/stand-ins/graph-api.mjs";
import { type OpenAiServer, startOpenAiServer } from "../../../scripts/stand-ins/openai-server.mjs";
import { createTestDatabase, type TestDatabase } from "../../support/database.ts";
import { APP_SECRET, type ChatOrg, createChatOrg, postWhatsApp, SERVICE_KEY, textMessage, WA_TOKEN, webChat, whatsappEvent } from "../../support/chat.ts";
import { type FunctionsServer, startFunctionsServer } from "../support/server.ts";

let db: TestDatabase;
let graph: GraphApi;
let llm: OpenAiServer;
let org: ChatOrg;
const servers: FunctionsServer[] = [];

const baseEnv = () => ({
  DATABASE_URL: db.url,
  SUPABASE_SERVICE_ROLE_KEY: SERVICE_KEY,
  WHATSAPP_APP_SECRET: APP_SECRET,
  WHATSAPP_VERIFY_TOKEN: "verify",
  WHATSAPP_ACCESS_TOKEN: WA_TOKEN,
  WHATSAPP_GRAPH_URL: graph.url,
  RATE_LIMIT_STORE: "memory",
  // A short turn, so the dead worker's lease (deadline + 5 s) runs out soon.
  CHAT_TURN_DEADLINE_MS: "3000",
});

beforeAll(async () => {
  db = await createTestDatabase();
  graph = await startGraphApi({ tokens: [WA_TOKEN] });
  llm = await startOpenAiServer({ apiKey: "sk-test", respond: () => ({ hang: true }) });
  org = await createChatOrg(db.sql);
}, 60_000);

afterAll(async () => {
  for (const s of servers) await s.stop();
  await llm?.close();
  await graph?.close();
  await db?.drop();
});

describe("a process killed between storing and answering", () => {
  it("loses nothing: the sweep answers every acknowledged message exactly once, within a minute", async () => {
    const doomed = await startFunctionsServer({
      env: { ...baseEnv(), OPENAI_API_KEY: "sk-test", OPENAI_BASE_URL: llm.url, LLM_TIMEOUT_MS: "2500" },
    });
    servers.push(doomed);
    const customers = ["14165550111", "14165550122", "14165550133", "14165550144", "14165550155"];
    const acked = await Promise.all(customers.map((from) =>
      postWhatsApp(doomed.functionUrl("whatsapp-webhook"), whatsappEvent(org.phoneNumberId, [textMessage("I want to talk to a person", from)]))
    ));
    expect(acked.map((r) => r.status)).toEqual(customers.map(() => 200));
    const ackedAt = Date.now();
    // Every turn is waiting on the LLM: kill the process now.
    await doomed.kill();
    expect(graph.sent).toHaveLength(0);
    // Every message is still somewhere durable: in the inbox, or in its conversation with a job.
    const unanswered = async () => (await db.sql`
      select (select count(*)::int from public.inbound_jobs where org_id = ${org.orgId})
           + (select count(*)::int from public.whatsapp_inbox where phone_number_id = ${org.phoneNumberId} and moved_at is null) as n`)[0].n;
    expect(await unanswered()).toBe(customers.length);

    const fresh = await startFunctionsServer({ env: baseEnv() });
    servers.push(fresh);
    const chat = webChat(`${fresh.url}/functions/v1`);
    for (;;) {
      const swept = await chat.sweep(SERVICE_KEY);
      expect(swept.status).toBe(200);
      if ((await unanswered()) === 0) break;
      expect(Date.now() - ackedAt).toBeLessThan(60_000);
      await new Promise((r) => setTimeout(r, 1000));
    }
    await expect.poll(() => graph.sent.length, { timeout: 5000 }).toBe(customers.length);
    for (const from of customers) {
      const sent = graph.sent.filter((s) => s.to === `+${from}`);
      expect(sent).toHaveLength(1);
      expect(sent[0].body.text.body).toMatch(/connecting you/);
    }
    const [{ replies }] = await db.sql`
      select count(*)::int as replies from public.messages where org_id = ${org.orgId} and sender_type = 'bot'`;
    expect(replies).toBe(customers.length);
  }, 90_000);
});
