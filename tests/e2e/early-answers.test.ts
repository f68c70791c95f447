// Answers given without reading the request body (a body over the limit, an unknown function) reach
// the client as answers, not as a reset connection. Deno's HTTP server up to 2.8.2, and so Deno 2.1
// (Supabase's hosted line, which `npm run test:e2e:deno-2.1` runs these suites under), closes the
// connection under a client that is still sending unless the body is read first; a few percent of
// such requests then fail with EPIPE or ECONNRESET (docs/deno-versions.md). Many requests at once
// make that failure show up when the unread body is not dropped (functions/_shared/http/body.ts).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../support/database.ts";
import { generateEd25519KeyPair } from "../support/telnyx-signing.ts";
import { startFunctionsServer, type FunctionsServer } from "./support/server.ts";

const REQUESTS = 64;
const CONCURRENCY = 8;
const BODY = JSON.stringify({ data: { blob: "x".repeat(1024 * 1024) } }); // 1 MiB: over the 256 KiB limit

let db: TestDatabase;
let server: FunctionsServer;

beforeAll(async () => {
  db = await createTestDatabase();
  const keys = await generateEd25519KeyPair();
  server = await startFunctionsServer({ env: { DATABASE_URL: db.url, TELNYX_PUBLIC_KEY: keys.publicKeySpki } });
}, 60_000);

afterAll(async () => {
  await server?.stop();
  await db?.drop();
});

/** POSTs BODY to url REQUESTS times, CONCURRENCY at a time; counts answers by "<status> <code>" or the client's error. */
async function flood(url: string): Promise<Record<string, number>> {
  const outcomes: Record<string, number> = {};
  let next = 0;
  async function worker() {
    while (next++ < REQUESTS) {
      let outcome: string;
      try {
        const res = await fetch(url, { method: "POST", body: BODY, headers: { "content-type": "application/json" } });
        const json = (await res.json()) as { error?: { code?: string } };
        outcome = `${res.status} ${json.error?.code}`;
      } catch (error) {
        const cause = (error as { cause?: { code?: string } }).cause;
        outcome = `no answer (${cause?.code ?? (error as Error).name})`;
      }
      outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
    }
  }
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  return outcomes;
}

describe("answers given before the body is read", () => {
  it("answers every over-limit body with 413 PAYLOAD_TOO_LARGE, none with a reset connection", async () => {
    expect(await flood(server.functionUrl("telnyx-webhook"))).toEqual({ "413 PAYLOAD_TOO_LARGE": REQUESTS });
  });

  it("answers every body sent to an unknown function with 404 NOT_FOUND, none with a reset connection", async () => {
    expect(await flood(server.functionUrl("no-such-function"))).toEqual({ "404 NOT_FOUND": REQUESTS });
  });
});
