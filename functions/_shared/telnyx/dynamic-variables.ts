// Answers assistant.initialization: called number → organisation and dispatcher config (cached),
// caller → client by exact E.164, then the variables. Whatever happens inside, the result comes back
// within the time budget: late lookups give lookup_status "timeout", failed ones "error", and the
// variables carry whatever was known by then.
import type { TtlCache } from "../cache/ttl-cache.ts";
import type { Sql } from "../db/client.ts";
import { toE164 } from "../phone/e164.ts";
import { withinBudget } from "../runtime/deadline.ts";
import type { InitializationEvent } from "./events.ts";
import { type CallerContext, loadCallerContext, loadNumberConfig, type NumberConfig } from "./repository.ts";
import { buildVariables, type LookupStatus } from "./variables.ts";

/** Telnyx sends the called number in E.164; a number written without "+" is read as North American. */
const CALLED_NUMBER_COUNTRY = "US";

export interface ResolverDeps {
  sql: Sql;
  /** Keyed by the called number exactly as Telnyx sends it (see loadConfigForCalledNumber). */
  configCache: TtlCache<string, NumberConfig | null>;
  now: () => Date;
}

export interface Resolution {
  variables: Record<string, string>;
  status: LookupStatus;
  orgId: string | null;
  clientId: string | null;
  configSource: "hit" | "miss" | "stale" | "none";
  error?: unknown;
}

/**
 * The config cache's loader: the called number as Telnyx sent it → its configuration, or null when it
 * is not a phone number we serve. Keying the cache by the raw text spares a phone parse per call.
 */
export async function loadConfigForCalledNumber(sql: Sql, calledNumber: string): Promise<NumberConfig | null> {
  const called = toE164(calledNumber, CALLED_NUMBER_COUNTRY);
  return called ? await loadNumberConfig(sql, called) : null;
}

export async function resolveDynamicVariables(
  deps: ResolverDeps,
  event: InitializationEvent,
  budgetMs: number,
): Promise<Resolution> {
  // What the lookups have found so far, read when the budget runs out.
  const found: { number: NumberConfig | null; caller: CallerContext | null; source: Resolution["configSource"] } = {
    number: null,
    caller: null,
    source: "none",
  };

  const work = async (): Promise<LookupStatus> => {
    if (!event.calledNumber) return "not_found";
    const cached = await deps.configCache.get(event.calledNumber);
    found.number = cached.value;
    found.source = cached.source;
    const number = cached.value;
    if (!number || !number.enabled || !number.config) return "not_found";
    const caller = toE164(event.callerNumber, number.org.default_country);
    if (!caller) return "not_found";
    const context = await loadCallerContext(deps.sql, number.org_id, caller);
    found.caller = context;
    return context.matches === 1 ? "found" : context.matches === 0 ? "not_found" : "ambiguous";
  };

  const outcome = await withinBudget(work(), budgetMs);
  const status: LookupStatus = outcome.kind === "done" ? outcome.value : outcome.kind === "timeout" ? "timeout" : "error";
  // On timeout or error the caller is unknown, whatever a late lookup may still return.
  const caller = outcome.kind === "done" ? found.caller : null;
  const variables = buildVariables({ now: deps.now(), number: found.number, caller, status });
  return {
    variables,
    status,
    orgId: found.number?.org_id ?? null,
    clientId: caller?.matches === 1 ? caller.client.id : null,
    configSource: found.source,
    error: outcome.kind === "failed" ? outcome.error : undefined,
  };
}
