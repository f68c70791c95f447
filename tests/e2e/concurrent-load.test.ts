// The functions server stays up and answers every request while 64 clients call at once. Under Deno
// before 2.6 (Supabase's hosted line is 2.1.4), postgres.js under this load makes a stray write that
// throws from a timer and, unguarded, ends the process within seconds (functions/_shared/db/client.ts,
// docs/deno-versions.md). `npm run test:e2e:deno-2.1` runs this suite under that Deno. No timing is
// asserted: the load is a fixed number of requests.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../support/database.ts";
import { createClient, createOrgWithNumber } from "../support/fixtures.ts";
import { generateEd25519KeyPair, initializationEvent, signTelnyx } from "../support/telnyx-signing.ts";
import { startFunctionsServer, type FunctionsServer } from "./support/server.ts";

const NUMBER = "+14165550100";
const JANE = "+14165550199";
const CLIENTS = 64;
const REQUESTS_PER_CLIENT = 40;

let db: TestDatabase;
let server: FunctionsServer;
let requests: { body: string; headers: Record<string, string> }[];

beforeAll(async () => {
  db = await createTestDatabase();
  const keys = await generateEd25519KeyPair();
  const { orgId } = await createOrgWithNumber(db.sql, { name: "Pinecrest", number: NUMBER });
  await createClient(db.sql, orgId, "Jane Cooper", "(416) 555-0199");
  server = await startFunctionsServer({ env: { DATABASE_URL: db.url, TELNYX_PUBLIC_KEY: keys.publicKeySpki } });
  // Signed before the load starts, so that the clients only send.
  requests = await Promise.all(
    Array.from({ length: 256 }, async () => {
      const body = initializationEvent(JANE, NUMBER);
      return { body, headers: { "content-type": "application/json", ...(await signTelnyx(keys.privateKey, body)) } };
    }),
  );
}, 60_000);

afterAll(async () => {
  await server?.stop();
  await db?.drop();
});

describe("under concurrent load", () => {
  it("answers every one of 64 clients' signed calls with 200 and keeps running", async () => {
    const outcomes: Record<string, number> = {};
    let sent = 0;
    const url = server.functionUrl("telnyx-webhook");
    async function client() {
      for (let i = 0; i < REQUESTS_PER_CLIENT; i++) {
        const { body, headers } = requests[sent++ % requests.length];
        let outcome: string;
        try {
          const res = await fetch(url, { method: "POST", body, headers });
          await res.arrayBuffer();
          outcome = String(res.status);
        } catch (error) {
          const cause = (error as { cause?: { code?: string } }).cause;
          outcome = `no answer (${cause?.code ?? (error as Error).name})`;
        }
        outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
      }
    }
    await Promise.all(Array.from({ length: CLIENTS }, client));
    expect(outcomes).toEqual({ "200": CLIENTS * REQUESTS_PER_CLIENT });
    const health = await fetch(server.functionUrl("health"));
    expect(health.status).toBe(200);
    expect(server.output().filter((line) => line.includes("Uncaught"))).toEqual([]);
  }, 120_000);
});
