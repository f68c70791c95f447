// One policy for every outbound call (HTTP APIs, the rate-limit store): a per-attempt timeout, retries
// with exponential backoff and jitter on retryable failures only, and a circuit breaker per
// dependency, built on cockatiel 3.2.1 (4.x needs Node 22). The caller's AbortSignal (its deadline)
// ends the whole call at once, including a backoff sleep, which cockatiel alone does not interrupt.
//
//   const zoho = createOutboundPolicy({ name: "zoho", timeoutMs: 800, maxAttempts: 3 });
//   const res = await zoho.fetch(url, { method: "POST", body }, { signal, requestId });
//   const value = await zoho.execute(({ signal }) => doSomething(signal), signal);
//
// Retryable: network errors (fetch's TypeError), per-attempt timeouts, HTTP 429 and 5xx (thrown as
// RetryableHttpError by fetch()), and any error with `retryable: true`. Not retried: other 4xx, the
// caller's abort, an open breaker. Only retryable failures count against the breaker.
import {
  BrokenCircuitError,
  circuitBreaker,
  CircuitBreakerPolicy,
  ConsecutiveBreaker,
  ExponentialBackoff,
  handleWhen,
  retry,
  TaskCancelledError,
  timeout,
  TimeoutStrategy,
  wrap,
} from "cockatiel";
import { readStreamLimited } from "../http/body.ts";
import { AppError } from "../http/errors.ts";
import type { Logger } from "../log/logger.ts";
import { metrics } from "../observability/index.ts";
import { type BreakerSnapshot, failureKind, getBreaker, listBreakers, registerBreaker } from "./breakers.ts";

export { BrokenCircuitError, TaskCancelledError };

/** An HTTP answer worth retrying (429 or 5xx). Carries the status and Retry-After, never the body. */
export class RetryableHttpError extends Error {
  readonly retryable = true;
  constructor(readonly status: number, readonly retryAfterSeconds: number | null) {
    super(`Upstream answered ${status}`);
    this.name = "RetryableHttpError";
  }
}

export interface OutboundPolicyOptions {
  /** The dependency: names the breaker (shared by every policy of that name in the isolate). */
  name: string;
  /** Limit for one attempt. */
  timeoutMs: number;
  /** Attempts in all, the first included (1 = no retry). Default 3. */
  maxAttempts?: number;
  /** First backoff delay; later ones grow exponentially with decorrelated jitter. Default 100 ms. */
  initialDelayMs?: number;
  /** Cap on one backoff delay. Default 2000 ms. */
  maxDelayMs?: number;
  /** Consecutive failed attempts that open the breaker. Default 5. */
  breakerThreshold?: number;
  /** How long an open breaker refuses calls before letting one through to test. Default 10 s. */
  halfOpenAfterMs?: number;
  /** Extra test for retryable errors, on top of the defaults above. */
  isRetryable?: (error: unknown) => boolean;
  logger?: Logger;
}

export interface AttemptContext {
  /** Aborted when this attempt times out or the caller gives up: pass it to fetch or the driver. */
  signal: AbortSignal;
  /** 0 for the first attempt. */
  attempt: number;
}

export interface OutboundResponse {
  status: number;
  headers: Headers;
  /** The body, read inside the policy (so the per-attempt timeout covers it). */
  text: string;
}

export interface FetchOptions {
  signal?: AbortSignal;
  /** Sent as x-request-id so the dependency's logs can be joined with ours. */
  requestId?: string;
  /** Largest body read; a longer one fails the attempt. Default 1 MiB. */
  maxResponseBytes?: number;
}

export interface OutboundPolicy {
  readonly name: string;
  execute<T>(fn: (ctx: AttemptContext) => Promise<T>, signal?: AbortSignal): Promise<T>;
  fetch(input: string | URL, init?: RequestInit, options?: FetchOptions): Promise<OutboundResponse>;
  breaker(): BreakerSnapshot;
}

export function isRetryableError(error: unknown): boolean {
  if (error instanceof BrokenCircuitError) return false;
  if (error instanceof TaskCancelledError) return true;
  if (error instanceof RetryableHttpError) return true;
  if (error && typeof error === "object" && (error as { retryable?: unknown }).retryable === true) return true;
  // fetch rejects with TypeError for DNS, connection and TLS failures, in Deno and in Node.
  if (error instanceof TypeError) return true;
  return false;
}

function positiveInt(value: number | undefined, fallback: number, what: string, min = 1): number {
  const v = value ?? fallback;
  if (!Number.isInteger(v) || v < min) throw new Error(`createOutboundPolicy: ${what} must be an integer >= ${min}`);
  return v;
}

/** Rejects as soon as `signal` aborts, whatever `promise` is doing. */
function raceAbort<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return promise;
  if (signal.aborted) return Promise.reject(signal.reason ?? new DOMException("Aborted", "AbortError"));
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason ?? new DOMException("Aborted", "AbortError"));
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(
      (v) => {
        signal.removeEventListener("abort", onAbort);
        resolve(v);
      },
      (e) => {
        signal.removeEventListener("abort", onAbort);
        reject(e);
      },
    );
  });
}

function outcomeOf(error: unknown, callerSignal?: AbortSignal): string {
  if (callerSignal?.aborted) return "aborted";
  if (error instanceof BrokenCircuitError) return "circuit_open";
  if (error instanceof TaskCancelledError) return "timeout";
  if (error instanceof RetryableHttpError) return "http_error";
  if (error instanceof TypeError) return "network";
  return "error";
}

export function createOutboundPolicy(options: OutboundPolicyOptions): OutboundPolicy {
  const name = options.name;
  if (!name || !/^[a-z0-9][a-z0-9_.:-]{0,62}$/i.test(name)) {
    throw new Error("createOutboundPolicy: name must be 1-63 letters, digits, _ . : -");
  }
  const timeoutMs = positiveInt(options.timeoutMs, 0, "timeoutMs");
  const maxAttempts = positiveInt(options.maxAttempts, 3, "maxAttempts");
  const initialDelay = positiveInt(options.initialDelayMs, 100, "initialDelayMs");
  const maxDelay = positiveInt(options.maxDelayMs, 2000, "maxDelayMs");
  const threshold = positiveInt(options.breakerThreshold, 5, "breakerThreshold");
  const halfOpenAfter = positiveInt(options.halfOpenAfterMs, 10_000, "halfOpenAfterMs");
  const retryable = (e: unknown) => isRetryableError(e) || (options.isRetryable?.(e) ?? false);

  let breaker = getBreaker(name);
  if (!breaker) {
    breaker = circuitBreaker(handleWhen(retryable), {
      halfOpenAfter,
      breaker: new ConsecutiveBreaker(threshold),
    });
    registerBreaker(name, breaker);
  }
  const breakerPolicy: CircuitBreakerPolicy = breaker;
  // cockatiel's maxAttempts counts retries, so one less than attempts in all.
  const policy = wrap(
    retry(handleWhen(retryable), {
      maxAttempts: maxAttempts - 1,
      backoff: new ExponentialBackoff({ initialDelay, maxDelay }),
    }),
    breakerPolicy,
    // abortOnReturn: false so that a value holding a stream is still readable after returning.
    timeout(timeoutMs, { strategy: TimeoutStrategy.Aggressive, abortOnReturn: false }),
  );

  async function execute<T>(fn: (ctx: AttemptContext) => Promise<T>, signal?: AbortSignal): Promise<T> {
    const started = performance.now();
    try {
      const value = await raceAbort(
        policy.execute(async ({ signal: attemptSignal, attempt }) => {
          if (signal?.aborted) throw signal.reason ?? new DOMException("Aborted", "AbortError");
          try {
            return await fn({ signal: attemptSignal, attempt });
          } catch (error) {
            // The attempt's own timeout aborted it (not the caller): report it as the timeout it is,
            // whichever of the abort and the timer settled first.
            if (attemptSignal.aborted && !signal?.aborted && !(error instanceof TaskCancelledError)) {
              throw new TaskCancelledError(`Attempt timed out after ${timeoutMs} ms`);
            }
            throw error;
          }
        }, signal),
        signal,
      );
      metrics.outbound(name, "ok", performance.now() - started);
      return value;
    } catch (error) {
      const outcome = outcomeOf(error, signal);
      metrics.outbound(name, outcome, performance.now() - started);
      options.logger?.warn("outbound call failed", { dependency: name, outcome, failure: failureKind(error) });
      throw error;
    }
  }

  async function fetchThrough(input: string | URL, init: RequestInit = {}, fetchOptions: FetchOptions = {}) {
    const maxBytes = fetchOptions.maxResponseBytes ?? 1024 * 1024;
    return await execute(async ({ signal }) => {
      const headers = new Headers(init.headers);
      if (fetchOptions.requestId) headers.set("x-request-id", fetchOptions.requestId);
      const res = await fetch(input, { ...init, headers, signal });
      if (res.status === 429 || res.status >= 500) {
        await res.body?.cancel().catch(() => {});
        const ra = Number(res.headers.get("retry-after"));
        throw new RetryableHttpError(res.status, Number.isFinite(ra) && ra >= 0 ? ra : null);
      }
      const text = await readLimited(res, maxBytes);
      return { status: res.status, headers: res.headers, text };
    }, fetchOptions.signal);
  }

  return {
    name,
    execute,
    fetch: fetchThrough,
    breaker: () => listBreakers().find((b) => b.name === name)!,
  };
}

async function readLimited(res: Response, maxBytes: number): Promise<string> {
  const bytes = await readStreamLimited(
    res.body,
    maxBytes,
    () => new AppError("UPSTREAM_RESPONSE_TOO_LARGE", 502, `Upstream response larger than ${maxBytes} bytes`),
  );
  return new TextDecoder().decode(bytes);
}
