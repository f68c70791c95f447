// The metrics every Switchboard function records, on one registry per isolate. Handlers call the
// small API below; /metrics renders it (summed over isolates through the shared store, store.ts).
//
//   metrics.observeRequest("telnyx-webhook", 200, 41.2)   request count + latency histogram
//   metrics.error("integrations", "SIGNATURE_INVALID")      refused or failed requests by code
//   metrics.cacheHit("dispatcher_config", true)             cache hits and misses (+ hit ratio)
//   metrics.rateLimited("integrations", "ip")               rate-limit rejections by scope
//   metrics.rateLimitFallback("redis", "timeout")           store failures that used the local limiter
//   metrics.outbound("zoho", "ok", 120)                     outbound calls through resilience/policy.ts
//   metrics.event("integrations", "stored" | "duplicate")   webhook events stored or recognised as replays
//   metrics.degraded("telnyx-webhook", "timeout")           answers that carried a fallback (the error rules count them)
//   metrics.llmCall("ok", { prompt: 310, completion: 42 })  LLM calls by outcome, and their tokens
//   metrics.alertNotice("firing", "sent")                   alert notices delivered, retried or given up
import { MetricsRegistry, type Sample } from "./metrics.ts";

export { Counter, Histogram, type Labels, MetricsRegistry, type Sample } from "./metrics.ts";

export const registry = new MetricsRegistry();

const requests = registry.counter("switchboard_http_requests_total", "HTTP requests answered, by function and status.", [
  "function",
  "status",
]);
const latency = registry.histogram(
  "switchboard_http_request_duration_seconds",
  "Time from request to response, by function.",
  ["function"],
);
const errors = registry.counter("switchboard_http_errors_total", "Requests answered with an error, by function and code.", [
  "function",
  "code",
]);
const cache = registry.counter("switchboard_cache_requests_total", "Cache lookups, by cache and result (hit|miss).", [
  "cache",
  "result",
]);
const rateLimited = registry.counter(
  "switchboard_rate_limit_rejections_total",
  "Requests refused with 429, by function and limit scope (ip|integration|org).",
  ["function", "scope"],
);
const rateLimitFallbacks = registry.counter(
  "switchboard_rate_limit_fallbacks_total",
  "Rate-limit decisions taken by the in-isolate limiter because the shared store failed or was slow.",
  ["store", "reason"],
);
const outboundCalls = registry.counter(
  "switchboard_outbound_requests_total",
  "Outbound calls, by dependency and outcome (ok|http_error|timeout|network|circuit_open|aborted|error).",
  ["dependency", "outcome"],
);
const outboundLatency = registry.histogram(
  "switchboard_outbound_duration_seconds",
  "Outbound call time including retries, by dependency.",
  ["dependency"],
);
const events = registry.counter("switchboard_webhook_events_total", "Webhook events, by function and result.", [
  "function",
  "result",
]);

const degraded = registry.counter(
  "switchboard_degraded_answers_total",
  "Answers given with a fallback instead of the real result (e.g. variables after a database timeout), by function and reason.",
  ["function", "reason"],
);
const llmCalls = registry.counter("switchboard_llm_calls_total", "LLM calls, by outcome (ok|error).", ["outcome"]);
const llmTokens = registry.counter("switchboard_llm_tokens_total", "LLM tokens, by kind (prompt|completion).", ["kind"]);
const alertNotices = registry.counter(
  "switchboard_alert_notices_total",
  "Alert notice delivery attempts, by transition (firing|resolved) and outcome (sent|retry|failed).",
  ["transition", "outcome"],
);

registry.gauge("switchboard_cache_hit_ratio", "Cache hits over lookups in this isolate, by cache.", () => {
  const totals = new Map<string, { hit: number; all: number }>();
  for (const s of cache.samples()) {
    const t = totals.get(s.labels.cache) ?? { hit: 0, all: 0 };
    t.all += s.value;
    if (s.labels.result === "hit") t.hit += s.value;
    totals.set(s.labels.cache, t);
  }
  return [...totals].map(([name, t]) => ({ name: "", labels: { cache: name }, value: t.all ? t.hit / t.all : 0 }));
});

export const metrics = {
  observeRequest(fn: string, status: number, ms: number): void {
    requests.inc({ function: fn, status: String(status) });
    latency.observe({ function: fn }, ms / 1000);
  },
  error(fn: string, code: string): void {
    errors.inc({ function: fn, code });
  },
  cacheHit(name: string, hit: boolean): void {
    cache.inc({ cache: name, result: hit ? "hit" : "miss" });
  },
  rateLimited(fn: string, scope: string): void {
    rateLimited.inc({ function: fn, scope });
  },
  rateLimitFallback(store: string, reason: string): void {
    rateLimitFallbacks.inc({ store, reason });
  },
  outbound(dependency: string, outcome: string, ms: number): void {
    outboundCalls.inc({ dependency, outcome });
    outboundLatency.observe({ dependency }, ms / 1000);
  },
  event(fn: string, result: string): void {
    events.inc({ function: fn, result });
  },
  degraded(fn: string, reason: string): void {
    degraded.inc({ function: fn, reason });
  },
  llmCall(outcome: "ok" | "error", tokens: { prompt?: number; completion?: number } = {}): void {
    llmCalls.inc({ outcome });
    if (tokens.prompt) llmTokens.inc({ kind: "prompt" }, tokens.prompt);
    if (tokens.completion) llmTokens.inc({ kind: "completion" }, tokens.completion);
  },
  alertNotice(transition: string, outcome: "sent" | "retry" | "failed"): void {
    alertNotices.inc({ transition, outcome });
  },
  /** Registers an extra counter on the shared registry (same name twice returns the same counter). */
  counter: (name: string, help: string, labelNames: readonly string[] = []) => registry.counter(name, help, labelNames),
  histogram: (name: string, help: string, labelNames: readonly string[] = [], buckets?: readonly number[]) =>
    registry.histogram(name, help, labelNames, buckets),
  render: (shared?: readonly Sample[]) => registry.render(shared),
};
