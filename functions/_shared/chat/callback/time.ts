// "tomorrow at 2pm", "11:45pm today", "Friday 9:30" → an instant, read in the customer's IANA
// timezone and correct across daylight-saving changes.
//
// chrono-node reads natural language but knows time zones only as fixed minute offsets (an IANA name
// is silently ignored, and the host zone used instead: on a UTC edge host "2pm" would be 14:00 UTC).
// So chrono is given the zone's offset *now* and asked only for the wall-clock fields it found (day,
// hour, minute); Temporal then resolves that wall time in the real zone, so "tomorrow at 2pm" across
// the spring-forward night is 2pm in tomorrow's offset, not today's. A text that names its own offset
// ("2pm EST") keeps it.
import * as chrono from "chrono-node";
import { Temporal } from "temporal-polyfill";

export type TimeParse =
  | { kind: "ok"; instant: Date; /** ISO 8601 with the zone's offset, e.g. 2026-12-01T14:00:00-05:00 */ local: string; matched: string }
  | { kind: "past"; local: string; matched: string }
  | { kind: "date_only"; matched: string }
  | { kind: "none" };

export interface TimeContext {
  now: Date;
  timeZone: string;
}

/** True when `zone` is an IANA zone this runtime knows. */
export function isValidTimeZone(zone: unknown): zone is string {
  if (typeof zone !== "string" || zone.length === 0 || zone.length > 64) return false;
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/** The wall time of `instant` in `timeZone` as ISO 8601 with offset, seconds included. */
export function toLocalIso(instant: Date, timeZone: string): string {
  return Temporal.Instant.fromEpochMilliseconds(instant.getTime())
    .toZonedDateTimeISO(timeZone)
    .toString({ timeZoneName: "never", smallestUnit: "second" });
}

const MAX_INPUT = 500;

export function parseRequestedTime(text: string, context: TimeContext): TimeParse {
  const input = (text ?? "").slice(0, MAX_INPUT);
  if (input.trim() === "") return { kind: "none" };
  const now = Temporal.Instant.fromEpochMilliseconds(context.now.getTime()).toZonedDateTimeISO(context.timeZone);
  const offsetMinutes = Math.round(now.offsetNanoseconds / 60_000_000_000);
  let results: chrono.ParsedResult[];
  try {
    results = chrono.parse(input, { instant: context.now, timezone: offsetMinutes }, { forwardDate: true });
  } catch {
    return { kind: "none" };
  }
  const result = results.find((r) => r.start.isCertain("hour")) ?? results[0];
  if (!result) return { kind: "none" };
  const start = result.start;
  if (!start.isCertain("hour")) return { kind: "date_only", matched: result.text };

  let zoned: Temporal.ZonedDateTime;
  if (start.isCertain("timezoneOffset")) {
    zoned = Temporal.Instant.fromEpochMilliseconds(start.date().getTime()).toZonedDateTimeISO(context.timeZone);
  } else {
    let hour = start.get("hour") ?? 0;
    // "at 2" means the afternoon to a business; nobody books a 2 a.m. callback without saying so.
    if (!start.isCertain("meridiem") && hour >= 1 && hour <= 7) hour += 12;
    const minute = start.get("minute") ?? 0;
    // A time with no day ("at 2", "3:30pm") is the next time the clock shows it: today, else tomorrow.
    const dayGiven = start.isCertain("day") || start.isCertain("weekday");
    const date = dayGiven
      ? new Temporal.PlainDate(start.get("year") ?? now.year, start.get("month") ?? now.month, start.get("day") ?? now.day)
      : now.toPlainDate();
    // A wall time that does not exist (the spring-forward gap) moves forward; a repeated one (the
    // fall-back hour) takes the earlier, as people mean the first time the clock shows it.
    const at = (d: Temporal.PlainDate) =>
      d.toPlainDateTime({ hour, minute }).toZonedDateTime(context.timeZone, { disambiguation: "compatible" });
    zoned = at(date);
    if (!dayGiven && zoned.epochMilliseconds <= context.now.getTime()) zoned = at(date.add({ days: 1 }));
    // "Monday at 10am" said on a Monday at noon means next Monday.
    if (start.isCertain("weekday") && !start.isCertain("day") && zoned.epochMilliseconds <= context.now.getTime()) {
      zoned = at(date.add({ days: 7 }));
    }
  }
  const local = zoned.toString({ timeZoneName: "never", smallestUnit: "second" });
  if (zoned.epochMilliseconds <= context.now.getTime()) return { kind: "past", local, matched: result.text };
  return { kind: "ok", instant: new Date(zoned.epochMilliseconds), local, matched: result.text };
}
