// The dynamic variables returned to the Telnyx AI Assistant, built from what the lookups found.
// A pure function of its input: every value is a string, names never start with "telnyx_" (Telnyx
// reserves that prefix) and no "{{...}}" survives in a value (Telnyx does not expand placeholders
// inside returned values, so the greeting and instructions are rendered here).
import { renderTemplate } from "../template.ts";
import { describeDay, describeWeek, isOpenAt, localTime } from "../time/business-hours.ts";
import { dateFormat, numberFormat } from "../time/formatters.ts";
import type { CallerContext, JobSummary, NumberConfig } from "./repository.ts";

export type LookupStatus = "found" | "not_found" | "ambiguous" | "timeout" | "error";

export interface VariableInput {
  now: Date;
  /** The called number's configuration; null when the number is unknown or could not be read. */
  number: NumberConfig | null;
  /** What the caller lookup found; null when it did not run or did not finish. */
  caller: CallerContext | null;
  status: LookupStatus;
}

export const FALLBACK_GREETING = "Thank you for calling. How can I help you today?";
export const FALLBACK_INSTRUCTIONS =
  "You are a helpful phone assistant. The caller's details are not available: ask for their name and how you can help.";
const FALLBACK_TIMEZONE = "UTC";
const FALLBACK_LOCALE = "en-US";
const FALLBACK_CURRENCY = "USD";

/** Names a business may define for itself: lower-case, not reserved by Telnyx. */
export const BUSINESS_VARIABLE_NAME = /^(?!telnyx_)[a-z][a-z0-9_]{0,63}$/;

function validZone(zone: string | null | undefined): string | null {
  if (!zone) return null;
  try {
    dateFormat("en-US", { timeZone: zone });
    return zone;
  } catch {
    return null;
  }
}

const checkedLocales = new Map<string, string>();

function validLocale(locale: string | null | undefined): string {
  if (!locale) return FALLBACK_LOCALE;
  let checked = checkedLocales.get(locale);
  if (checked === undefined) {
    try {
      checked = new Intl.Locale(locale).toString();
    } catch {
      checked = FALLBACK_LOCALE;
    }
    if (checkedLocales.size < 1000) checkedLocales.set(locale, checked);
  }
  return checked;
}

// The week's hours as text depend only on the configuration (cached, so the same object on every
// call) and the locale: worth keeping rather than formatting fourteen times per answer.
const weekTexts = new WeakMap<object, Map<string, string>>();

function weekText(hours: Record<string, unknown>, locale: string): string {
  let byLocale = weekTexts.get(hours);
  if (!byLocale) weekTexts.set(hours, (byLocale = new Map()));
  let text = byLocale.get(locale);
  if (text === undefined) byLocale.set(locale, (text = describeWeek(hours, locale)));
  return text;
}

function servicesText(services: unknown): string {
  if (typeof services === "string") return services.trim();
  if (Array.isArray(services)) {
    return services.filter((s) => typeof s === "string" && s.trim() !== "").map((s) => s.trim()).join(", ");
  }
  return "";
}

function formatMoney(amount: number, currency: string, locale: string): string {
  try {
    return numberFormat(locale, { style: "currency", currency }).format(amount);
  } catch {
    return numberFormat(locale, { style: "currency", currency: FALLBACK_CURRENCY }).format(amount);
  }
}

function formatDate(iso: string | null | undefined, zone: string, locale: string, withTime: boolean): string {
  if (!iso) return "";
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return "";
  return dateFormat(locale, {
    timeZone: zone,
    weekday: withTime ? "long" : undefined,
    year: withTime ? undefined : "numeric",
    month: "long",
    day: "numeric",
    hour: withTime ? "numeric" : undefined,
    minute: withTime ? "2-digit" : undefined,
  }).format(date);
}

function stringify(value: unknown): string | null {
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  if (Array.isArray(value) && value.every((v) => typeof v === "string" || typeof v === "number")) {
    return value.join(", ");
  }
  return null;
}

function jobFields(prefix: string, job: JobSummary | null, zone: string, locale: string, withTime: boolean) {
  return {
    [prefix]: job ? servicesText(job.services) : "",
    [`${prefix}_date`]: job ? formatDate(job.date, zone, locale, withTime) : "",
  };
}

export function buildVariables(input: VariableInput): Record<string, string> {
  const { now, number, caller, status } = input;
  const config = number?.enabled ? number.config : null;
  const org = number?.org;
  const zone = validZone(config?.timezone) ?? validZone(org?.timezone) ?? FALLBACK_TIMEZONE;
  const locale = validLocale(org?.locale);
  const currency = org?.currency ?? FALLBACK_CURRENCY;
  const hours = config?.business_hours ?? {};

  const business: Record<string, string> = {};
  for (const [name, value] of Object.entries(config?.default_variables ?? {})) {
    const text = stringify(value);
    if (BUSINESS_VARIABLE_NAME.test(name) && text !== null) business[name] = text;
  }

  const client = caller && caller.matches === 1 ? caller.client : null;
  const today = localTime(now, zone);
  const open = config ? isOpenAt(hours, today) : false;
  const firstName = client?.name.trim().split(/\s+/)[0] ?? "";

  const computed: Record<string, string> = {
    company_name: config?.company_name ?? "",
    agent_name: config?.agent_name ?? "",
    customer_name: client?.name.trim() ?? "",
    customer_first_name: firstName,
    is_existing_customer: client ? "true" : "false",
    customer_job_count: client ? String(client.job_count) : "0",
    ...jobFields("last_service", client?.last_job ?? null, zone, locale, false),
    ...jobFields("next_job", client?.next_job ?? null, zone, locale, true),
    outstanding_balance: client ? formatMoney(client.balance, currency, locale) : "",
    has_outstanding_balance: client && client.balance > 0 ? "true" : "false",
    business_open_now: open ? "true" : "false",
    business_status: config ? (open ? "open" : "closed") : "",
    business_hours_today: config ? describeDay(hours, today.weekday, locale) : "",
    business_hours: config ? weekText(hours, locale) : "",
    current_date: dateFormat(locale, { timeZone: zone, dateStyle: "full" }).format(now),
    current_time: dateFormat(locale, { timeZone: zone, timeStyle: "short" }).format(now),
    timezone: zone,
    lookup_status: status,
    caller_ambiguous: caller?.matches === 2 ? "true" : "false",
    dispatcher_configured: config ? "true" : "false",
  };

  // Computed values win over business variables of the same name; templates may use both.
  const context: Record<string, string> = { ...business, ...computed };
  for (const name of Object.keys(business)) {
    if (!(name in computed)) context[name] = renderTemplate(business[name], { ...context, [name]: "" });
  }
  const greeting = config?.greeting_message?.trim() ? config.greeting_message : FALLBACK_GREETING;
  const instructions = config?.instructions?.trim() ? config.instructions : FALLBACK_INSTRUCTIONS;
  context.greeting = renderTemplate(greeting, context);
  context.instructions = renderTemplate(instructions, context);
  return context;
}
