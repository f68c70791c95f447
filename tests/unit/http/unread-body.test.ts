// A body we answer without reading is read and dropped, within bounds, before the answer goes out
// (functions/_shared/http/body.ts: Deno 2.1 resets the connection otherwise). These tests count what
// was pulled from the request's stream; the end-to-end suite checks the effect over real HTTP.
import { afterEach, describe, expect, it, vi } from "vitest";
import {
  DISCARD_MAX_BYTES,
  DISCARD_TIMEOUT_MS,
  discardUnreadBody,
  readRawBody,
} from "../../../functions/_shared/http/body.ts";
import { AppError } from "../../../functions/_shared/http/errors.ts";
import { createLogger } from "../../../functions/_shared/log/logger.ts";
import { instrumentHandler } from "../../../functions/_shared/observability/http.ts";

const CHUNK = 64 * 1024;

/** A body of `chunks` 64 KiB chunks (or one that never ends), recording how much was pulled and whether it was cancelled. */
function trackedBody(chunks: number | "endless-then-stall") {
  const seen = { pulled: 0, cancelled: false };
  let sent = 0;
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (chunks === "endless-then-stall") {
        if (sent++ < 2) {
          seen.pulled += CHUNK;
          controller.enqueue(new Uint8Array(CHUNK));
        }
        return new Promise<void>(() => {}); // the client stops sending and keeps the connection
      }
      if (sent === chunks) return controller.close();
      sent += 1;
      seen.pulled += CHUNK;
      controller.enqueue(new Uint8Array(CHUNK));
    },
    cancel() {
      seen.cancelled = true;
    },
  }, { highWaterMark: 0 });
  return { stream, seen };
}

function post(body: ReadableStream<Uint8Array>, contentLength?: number): Request {
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (contentLength !== undefined) headers["content-length"] = String(contentLength);
  return new Request("http://localhost/fn", { method: "POST", body, headers, duplex: "half" } as RequestInit);
}

afterEach(() => {
  vi.useRealTimers();
});

describe("discardUnreadBody", () => {
  it("reads an unread body to its end when it fits the bound", async () => {
    const { stream, seen } = trackedBody(16); // 1 MiB
    await discardUnreadBody(post(stream));
    expect(seen.pulled).toBe(16 * CHUNK);
  });

  it("stops at the bound and cancels the rest of a body that keeps coming", async () => {
    const { stream, seen } = trackedBody(1000); // 64 MiB, undeclared
    await discardUnreadBody(post(stream));
    expect(seen.pulled).toBeGreaterThan(DISCARD_MAX_BYTES);
    expect(seen.pulled).toBeLessThanOrEqual(DISCARD_MAX_BYTES + 2 * CHUNK);
    expect(seen.cancelled).toBe(true);
  });

  it("does not read a body declared larger than the bound", async () => {
    const { stream, seen } = trackedBody(1000);
    await discardUnreadBody(post(stream, 1000 * CHUNK));
    expect(seen.pulled).toBe(0);
  });

  it("gives up on a body that stalls once the time bound has passed, and cancels it", async () => {
    vi.useFakeTimers();
    const { stream, seen } = trackedBody("endless-then-stall");
    let settled = false;
    const done = discardUnreadBody(post(stream)).then(() => (settled = true));
    await vi.advanceTimersByTimeAsync(DISCARD_TIMEOUT_MS - 1);
    expect(settled).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    await done;
    expect(seen.cancelled).toBe(true);
  });

  it("leaves a body the handler has read alone", async () => {
    const { stream, seen } = trackedBody(2);
    const req = post(stream);
    await req.arrayBuffer();
    await discardUnreadBody(req);
    expect(seen.pulled).toBe(2 * CHUNK);
  });
});

describe("readRawBody past its limit", () => {
  it("answers 413 PAYLOAD_TOO_LARGE for an undeclared body and drops the rest of it", async () => {
    const { stream, seen } = trackedBody(8); // 512 KiB against a 256 KiB limit
    const error = await readRawBody(post(stream)).catch((e) => e);
    expect(error).toBeInstanceOf(AppError);
    expect((error as AppError).code).toBe("PAYLOAD_TOO_LARGE");
    expect(seen.pulled).toBe(8 * CHUNK);
  });
});

describe("instrumentHandler", () => {
  it("drops the body of a request its handler refused without reading", async () => {
    const handler = instrumentHandler("demo", createLogger({}, { sink: () => {} }), async () => {
      throw new AppError("SIGNATURE_MISSING", 401, "no signature");
    });
    const { stream, seen } = trackedBody(8);
    const res = await handler(post(stream));
    expect(res.status).toBe(401);
    expect(seen.pulled).toBe(8 * CHUNK);
  });
});
