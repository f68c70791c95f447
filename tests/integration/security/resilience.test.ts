// The outbound policy against a local HTTP server that fails on purpose: retries with backoff on
// 429/5xx/network errors only, per-attempt timeouts, the caller's deadline, and a breaker that opens
// after consecutive failures and closes again once the dependency recovers.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { listBreakers, resetBreakers } from "../../../functions/_shared/resilience/breakers.ts";
import {
  BrokenCircuitError,
  createOutboundPolicy,
  RetryableHttpError,
  TaskCancelledError,
} from "../../../functions/_shared/resilience/policy.ts";
import { closedPort, scriptedServer } from "./support.ts";

let server: Awaited<ReturnType<typeof scriptedServer>> | null = null;
beforeEach(() => resetBreakers());
afterEach(async () => {
  await server?.close();
  server = null;
});

const fast = { initialDelayMs: 10, maxDelayMs: 40 };

describe("createOutboundPolicy", () => {
  it("retries 503 and 429 with backoff and returns the eventual answer, sending x-request-id each time", async () => {
    server = await scriptedServer((_req, n) => (n === 1 ? { status: 503 } : n === 2 ? { status: 429 } : { status: 200, body: "done" }));
    const policy = createOutboundPolicy({ name: "crm", timeoutMs: 1000, maxAttempts: 3, ...fast });
    const res = await policy.fetch(`${server.url}/x`, { method: "POST", body: "{}" }, { requestId: "req-12345678" });
    expect(res).toMatchObject({ status: 200, text: "done" });
    expect(server.requests).toHaveLength(3);
    expect(server.requests.map((r) => r.headers["x-request-id"])).toEqual(["req-12345678", "req-12345678", "req-12345678"]);
  });

  it("does not retry a 4xx other than 429: it is the caller's answer", async () => {
    server = await scriptedServer(() => ({ status: 400, body: "bad" }));
    const policy = createOutboundPolicy({ name: "crm", timeoutMs: 1000, maxAttempts: 3, ...fast });
    expect(await policy.fetch(server.url)).toMatchObject({ status: 400, text: "bad" });
    expect(server.requests).toHaveLength(1);
  });

  it("gives up after maxAttempts with the last retryable error", async () => {
    server = await scriptedServer(() => ({ status: 502 }));
    const policy = createOutboundPolicy({ name: "crm", timeoutMs: 1000, maxAttempts: 2, ...fast });
    await expect(policy.fetch(server.url)).rejects.toBeInstanceOf(RetryableHttpError);
    expect(server.requests).toHaveLength(2);
  });

  it("times out a hanging attempt and retries it", async () => {
    server = await scriptedServer((_req, n) => (n === 1 ? { status: 200, delayMs: 5000 } : { status: 200, body: "second" }));
    const policy = createOutboundPolicy({ name: "slow", timeoutMs: 100, maxAttempts: 2, ...fast });
    const started = performance.now();
    expect((await policy.fetch(server.url)).text).toBe("second");
    expect(performance.now() - started).toBeLessThan(2000);
  });

  it("treats a refused connection as retryable", async () => {
    const port = await closedPort();
    const policy = createOutboundPolicy({ name: "gone", timeoutMs: 500, maxAttempts: 3, ...fast, breakerThreshold: 10 });
    await expect(policy.fetch(`http://127.0.0.1:${port}/`)).rejects.toBeInstanceOf(TypeError);
    expect(listBreakers().find((b) => b.name === "gone")?.consecutiveFailures).toBe(3);
  });

  it("stops at the caller's deadline, even during a backoff sleep", async () => {
    server = await scriptedServer(() => ({ status: 503 }));
    const policy = createOutboundPolicy({ name: "deadline", timeoutMs: 1000, maxAttempts: 5, initialDelayMs: 3000, maxDelayMs: 3000 });
    const started = performance.now();
    await expect(policy.fetch(server.url, {}, { signal: AbortSignal.timeout(300) })).rejects.toMatchObject({ name: "TimeoutError" });
    expect(performance.now() - started).toBeLessThan(1500);
    expect(server.requests).toHaveLength(1);
  });

  it("opens the breaker after consecutive failures, refuses without calling, and closes after recovery", async () => {
    let healthy = false;
    server = await scriptedServer(() => (healthy ? { status: 200, body: "ok" } : { status: 500 }));
    const policy = createOutboundPolicy({ name: "zoho", timeoutMs: 500, maxAttempts: 1, breakerThreshold: 3, halfOpenAfterMs: 200 });
    for (let i = 0; i < 3; i++) await expect(policy.fetch(server.url)).rejects.toBeInstanceOf(RetryableHttpError);
    expect(policy.breaker().state).toBe("open");
    expect(policy.breaker().lastFailure).toBe("http_500");
    const calls = server.requests.length;
    await expect(policy.fetch(server.url)).rejects.toBeInstanceOf(BrokenCircuitError);
    expect(server.requests.length).toBe(calls);
    healthy = true;
    await new Promise((r) => setTimeout(r, 250));
    expect((await policy.fetch(server.url)).text).toBe("ok");
    expect(policy.breaker().state).toBe("closed");
    expect(listBreakers().map((b) => b.name)).toContain("zoho");
  });

  it("refuses bad options at once", () => {
    expect(() => createOutboundPolicy({ name: "", timeoutMs: 10 })).toThrow();
    expect(() => createOutboundPolicy({ name: "x", timeoutMs: 0 })).toThrow();
    expect(() => createOutboundPolicy({ name: "x", timeoutMs: 10, maxAttempts: 0 })).toThrow();
  });

  it("execute() passes an abortable signal and the attempt number", async () => {
    const policy = createOutboundPolicy({ name: "fn", timeoutMs: 50, maxAttempts: 2, ...fast });
    const seen: number[] = [];
    await expect(
      policy.execute(({ signal, attempt }) => {
        seen.push(attempt);
        return new Promise((_, reject) => signal.addEventListener("abort", () => reject(signal.reason)));
      }),
    ).rejects.toBeInstanceOf(TaskCancelledError);
    expect(seen).toEqual([0, 1]);
  });
});
