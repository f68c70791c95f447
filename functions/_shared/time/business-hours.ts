// Business hours in the organisation's timezone: is it open now, and what to say about today.
// Hours are {"mon": [["08:00","17:00"]], ...}; a missing or empty day is closed. A range that ends at
// or before it starts runs past midnight ("22:00"-"02:00").
import { dateFormat } from "./formatters.ts";

export type WeekdayKey = "mon" | "tue" | "wed" | "thu" | "fri" | "sat" | "sun";
export type BusinessHours = Partial<Record<WeekdayKey, Array<[string, string]>>>;

const KEYS: WeekdayKey[] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
const HHMM = /^([01]?[0-9]|2[0-4]):([0-5][0-9])$/;

export interface LocalTime {
  weekday: WeekdayKey;
  minutes: number;
}

/** Weekday and minutes since midnight of `instant` in `timeZone`. Throws RangeError on a bad zone. */
export function localTime(instant: Date, timeZone: string): LocalTime {
  const parts = dateFormat("en-US", {
    timeZone,
    weekday: "short",
    hour: "2-digit",
    minute: "2-digit",
    hourCycle: "h23",
  }).formatToParts(instant);
  const get = (type: string) => parts.find((p) => p.type === type)?.value ?? "";
  const weekday = get("weekday").slice(0, 3).toLowerCase() as WeekdayKey;
  return { weekday, minutes: Number(get("hour")) * 60 + Number(get("minute")) };
}

function toMinutes(text: unknown): number | null {
  if (typeof text !== "string") return null;
  const m = HHMM.exec(text.trim());
  return m ? Number(m[1]) * 60 + Number(m[2]) : null;
}

function rangesFor(hours: unknown, day: WeekdayKey): Array<[number, number]> {
  if (!hours || typeof hours !== "object") return [];
  const list = (hours as Record<string, unknown>)[day];
  if (!Array.isArray(list)) return [];
  const out: Array<[number, number]> = [];
  for (const range of list) {
    if (!Array.isArray(range) || range.length !== 2) continue;
    const start = toMinutes(range[0]);
    const end = toMinutes(range[1]);
    if (start !== null && end !== null) out.push([start, end]);
  }
  return out;
}

export function isOpenAt(hours: unknown, at: LocalTime): boolean {
  const today = KEYS.indexOf(at.weekday);
  const yesterday = KEYS[(today + 6) % 7];
  for (const [start, end] of rangesFor(hours, at.weekday)) {
    if (end > start ? at.minutes >= start && at.minutes < end : at.minutes >= start) return true;
  }
  // Yesterday's overnight ranges still open after midnight.
  for (const [start, end] of rangesFor(hours, yesterday)) {
    if (end <= start && at.minutes < end) return true;
  }
  return false;
}

function formatMinutes(minutes: number, locale: string): string {
  const date = new Date(Date.UTC(2000, 0, 1, Math.floor(minutes / 60) % 24, minutes % 60));
  return dateFormat(locale, { hour: "numeric", minute: "2-digit", timeZone: "UTC" }).format(date);
}

/** "8:00 AM–6:00 PM" for a day, or "closed". */
export function describeDay(hours: unknown, day: WeekdayKey, locale: string): string {
  const ranges = rangesFor(hours, day);
  if (ranges.length === 0) return "closed";
  return ranges.map(([s, e]) => `${formatMinutes(s, locale)}–${formatMinutes(e, locale)}`).join(", ");
}

/** "Mon: 8:00 AM–6:00 PM; Tue: ...; Sun: closed". */
export function describeWeek(hours: unknown, locale: string): string {
  return KEYS.map((day) => `${day[0].toUpperCase()}${day.slice(1)}: ${describeDay(hours, day, locale)}`).join("; ");
}
