// Every circuit breaker in this isolate, by dependency name, so that /health/detailed and /metrics can
// show which dependencies are being shed. State is per isolate (Supabase runs many), which is what a
// breaker needs: it protects this isolate's callers from waiting on a dependency that is failing.
import { CircuitBreakerPolicy, CircuitState } from "cockatiel";
import { registry } from "../observability/index.ts";

export type BreakerStateName = "closed" | "open" | "half_open" | "isolated";

export interface BreakerSnapshot {
  name: string;
  state: BreakerStateName;
  /** When the breaker last changed state (ISO 8601). */
  since: string;
  consecutiveFailures: number;
  /** What the last failure was, by kind only (never a message, URL or body). */
  lastFailure: string | null;
}

interface Entry {
  policy: CircuitBreakerPolicy;
  since: number;
  consecutiveFailures: number;
  lastFailure: string | null;
}

const entries = new Map<string, Entry>();

/** This isolate, in breaker reports shared through Postgres (public.breaker_reports). */
export const ISOLATE_ID = crypto.randomUUID();

const STATE_NAMES: Record<CircuitState, BreakerStateName> = {
  [CircuitState.Closed]: "closed",
  [CircuitState.Open]: "open",
  [CircuitState.HalfOpen]: "half_open",
  [CircuitState.Isolated]: "isolated",
};

/** Describes a failure by kind: an error class name, an HTTP status, or a code. */
export function failureKind(error: unknown): string {
  if (error && typeof error === "object") {
    const e = error as { status?: unknown; code?: unknown; name?: unknown };
    if (typeof e.status === "number") return `http_${e.status}`;
    if (typeof e.code === "string" && /^[A-Z0-9_]{1,40}$/.test(e.code)) return e.code;
    if (typeof e.name === "string") return e.name.slice(0, 60);
  }
  return "unknown";
}

/** Adds a breaker under `name` (replacing one of the same name) and follows its state. */
export function registerBreaker(name: string, policy: CircuitBreakerPolicy): void {
  const entry: Entry = { policy, since: Date.now(), consecutiveFailures: 0, lastFailure: null };
  policy.onStateChange(() => (entry.since = Date.now()));
  policy.onFailure(({ reason }) => {
    entry.consecutiveFailures++;
    entry.lastFailure = "error" in reason ? failureKind(reason.error) : "result";
  });
  policy.onSuccess(() => (entry.consecutiveFailures = 0));
  entries.set(name, entry);
}

export function getBreaker(name: string): CircuitBreakerPolicy | undefined {
  return entries.get(name)?.policy;
}

export function listBreakers(): BreakerSnapshot[] {
  return [...entries].sort(([a], [b]) => a.localeCompare(b)).map(([name, e]) => ({
    name,
    state: STATE_NAMES[e.policy.state],
    since: new Date(e.since).toISOString(),
    consecutiveFailures: e.consecutiveFailures,
    lastFailure: e.lastFailure,
  }));
}

/** For tests: forgets every breaker. */
export function resetBreakers(): void {
  entries.clear();
}

registry.gauge(
  "switchboard_circuit_breaker_state",
  "Circuit breaker state in this isolate: 0 closed, 1 open, 2 half-open, 3 isolated.",
  () => [...entries].map(([name, e]) => ({ name: "", labels: { dependency: name }, value: e.policy.state })),
);
