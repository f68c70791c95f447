// A request id follows the work: the response, every log line, background tasks and outbound calls.
import { afterEach, describe, expect, it } from "vitest";
import { AppError } from "../../../functions/_shared/http/errors.ts";
import { createLogger } from "../../../functions/_shared/log/logger.ts";
import { instrumentHandler } from "../../../functions/_shared/observability/http.ts";
import { resetBreakers } from "../../../functions/_shared/resilience/breakers.ts";
import { createOutboundPolicy } from "../../../functions/_shared/resilience/policy.ts";
import { runInBackground, settleBackground } from "../../../functions/_shared/runtime/background.ts";
import { scriptedServer } from "./support.ts";

let server: Awaited<ReturnType<typeof scriptedServer>> | null = null;
afterEach(async () => {
  await server?.close();
  server = null;
  resetBreakers();
});

describe("request id", () => {
  it("is carried into background work and outbound calls", async () => {
    server = await scriptedServer(() => ({ status: 200, body: "ok" }));
    const lines: Record<string, unknown>[] = [];
    const logger = createLogger({}, { sink: (line) => lines.push(JSON.parse(line)) });
    const crm = createOutboundPolicy({ name: "crm-sync", timeoutMs: 500, maxAttempts: 1 });
    const handler = instrumentHandler("demo", logger, async (_req, ctx) => {
      runInBackground(async () => {
        await crm.fetch(server!.url, { method: "POST" }, { requestId: ctx.requestId });
        ctx.logger.info("synced to crm");
      }, ctx.logger);
      return new Response("accepted", { status: 202 });
    });
    const res = await handler(new Request("http://localhost/demo", { headers: { "x-request-id": "caller-req-0001" } }));
    await settleBackground();
    expect(res.headers.get("x-request-id")).toBe("caller-req-0001");
    expect(server.requests[0].headers["x-request-id"]).toBe("caller-req-0001");
    const synced = lines.find((l) => l.msg === "synced to crm");
    expect(synced).toMatchObject({ request_id: "caller-req-0001", function: "demo" });
    expect(lines.find((l) => l.msg === "request")).toMatchObject({ request_id: "caller-req-0001", status: 202 });
  });

  it("replaces an unsafe caller id, and puts the id in error bodies without stacks", async () => {
    const lines: string[] = [];
    const logger = createLogger({}, { sink: (line) => lines.push(line) });
    const handler = instrumentHandler("demo", logger, async () => {
      throw new Error("boom at /secret/path password=hunter2");
    });
    const res = await handler(new Request("http://localhost/demo?token=abc", { headers: { "x-request-id": "bad id with spaces" } }));
    expect(res.status).toBe(500);
    const body = await res.json();
    expect(body.error).toEqual({ code: "INTERNAL", message: "Internal error", request_id: res.headers.get("x-request-id") });
    expect(res.headers.get("x-request-id")).not.toBe("bad id with spaces");
    expect(lines.join("\n")).not.toContain("token=abc");
    expect(lines.join("\n")).not.toContain("    at ");
  });

  it("answers an AppError with its status, code and headers", async () => {
    const logger = createLogger({}, { sink: () => {} });
    const handler = instrumentHandler("demo", logger, async () => {
      throw new AppError("RATE_LIMITED", 429, "slow down", { "retry-after": "7" });
    });
    const res = await handler(new Request("http://localhost/"));
    expect(res.status).toBe(429);
    expect(res.headers.get("retry-after")).toBe("7");
    expect((await res.json()).error.code).toBe("RATE_LIMITED");
  });
});
