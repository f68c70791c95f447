// Collecting a callback over as many messages as it takes: a time (read in the customer's timezone)
// and a phone number, then the callback is handed to the scheduling action. The button, the LLM's
// schedule_callback tool and the rule-based brain all start or feed this one flow, so the questions,
// the checks (past times, unreadable numbers, business hours when the organisation asks for them) and
// the callback written are the same whoever asked.
import { describeDay, isOpenAt, localTime, type WeekdayKey } from "../../time/business-hours.ts";
import { languagePack } from "../brain/language.ts";
import { CALLBACK_USE_THIS_NUMBER, CANCEL_CALLBACK } from "../buttons.ts";
import type { ActionSource, BotMemory, Reply, TurnContext } from "../types.ts";
import { findPhone } from "./phone.ts";
import { isValidTimeZone, parseRequestedTime } from "./time.ts";

export type CallbackState = NonNullable<BotMemory["callback"]>;

export type FlowStep =
  | { kind: "ask"; reply: Reply; state: CallbackState }
  | {
    kind: "ready";
    scheduledFor: Date;
    timezone: string;
    phone: string;
    requestedText: string | null;
    issue: string | null;
    source: ActionSource;
  };

/** A new flow's state. */
export function startCallback(source: ActionSource, issue?: string | null): CallbackState {
  return { source, asked: 0, ...(issue ? { issue } : {}) };
}

/** The zone a customer's words are read in: their own (web widget), else the organisation's. */
export function customerTimeZone(ctx: TurnContext): string {
  const candidates = [ctx.session?.timezone, ctx.conversation.metadata?.timezone, ctx.profile.timezone];
  for (const zone of candidates) if (isValidTimeZone(zone)) return zone;
  return "UTC";
}

/** "Tuesday, December 1 at 2:00 PM EST" in the customer's zone and the organisation's locale. */
export function describeWhen(instant: Date, timeZone: string, locale: string): string {
  try {
    return new Intl.DateTimeFormat(locale, {
      timeZone, weekday: "long", month: "long", day: "numeric", hour: "numeric", minute: "2-digit", timeZoneName: "short",
    }).format(instant);
  } catch {
    return instant.toISOString();
  }
}

const DAYS: WeekdayKey[] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

function hoursText(ctx: TurnContext): string {
  return DAYS.map((d) => `${d[0].toUpperCase()}${d.slice(1)} ${describeDay(ctx.profile.business_hours, d, ctx.profile.locale)}`)
    .join(", ");
}

/**
 * One step: reads `text` (a message, or the LLM's "when" and "phone" arguments) into the state and
 * either asks for what is still missing or is ready to schedule. Never throws on odd input.
 */
export function callbackStep(
  ctx: TurnContext,
  state: CallbackState,
  input: { text?: string | null; when?: string | null; phone?: string | null; useChannelPhone?: boolean },
  now: Date,
): FlowStep {
  const pack = languagePack(ctx.profile.settings.language);
  const zone = customerTimeZone(ctx);
  const channelPhone = ctx.conversation.customer_phone;
  const next: CallbackState = { ...state, asked: state.asked + 1 };
  let problem: string | null = null;

  // The number first, and cut out of the text: chrono would read "416-555-0199" as a date.
  if (input.useChannelPhone && channelPhone) next.phone = channelPhone;
  const phoneText = input.phone ?? input.text ?? null;
  const phoneContext = { channelPhone, defaultCountry: ctx.profile.default_country };
  const found = phoneText ? findPhone(phoneText, phoneContext) : null;
  if (found) next.phone = found.number;

  let timeText = input.when ?? input.text ?? null;
  if (timeText && found && input.when == null && input.phone == null) {
    timeText = `${timeText.slice(0, found.startsAt)} ${timeText.slice(found.endsAt)}`;
  } else if (timeText && input.when != null) {
    const inWhen = findPhone(timeText, phoneContext);
    if (inWhen) timeText = `${timeText.slice(0, inWhen.startsAt)} ${timeText.slice(inWhen.endsAt)}`;
  }
  if (timeText && timeText.trim()) {
    const parsed = parseRequestedTime(timeText, { now, timeZone: zone });
    if (parsed.kind === "ok") {
      if (ctx.profile.settings.callbacks_within_business_hours &&
        !isOpenAt(ctx.profile.business_hours, localTime(parsed.instant, ctx.profile.timezone))) {
        problem = pack.lines.callback_outside_hours({ hours: hoursText(ctx) });
        delete next.scheduled_for;
      } else {
        next.scheduled_for = parsed.instant.toISOString();
        next.when_text = parsed.matched;
      }
    } else if (parsed.kind === "past") {
      problem = pack.lines.callback_time_past;
      delete next.scheduled_for;
    } else if (parsed.kind === "date_only" && !next.scheduled_for) {
      problem = pack.lines.callback_time_date_only;
    }
  }
  // A scheduled time that has passed while we were asking for the number must be asked again.
  if (next.scheduled_for && new Date(next.scheduled_for).getTime() <= now.getTime()) {
    delete next.scheduled_for;
    problem = pack.lines.callback_time_past;
  }

  if (next.scheduled_for && next.phone) {
    return {
      kind: "ready",
      scheduledFor: new Date(next.scheduled_for),
      timezone: zone,
      phone: next.phone,
      requestedText: next.when_text ?? null,
      issue: next.issue ?? null,
      source: next.source,
    };
  }

  const cancel = { id: CANCEL_CALLBACK, title: pack.lines.buttons.cancel };
  let body: string;
  const buttons = [];
  if (problem) body = problem;
  else if (!next.scheduled_for && !next.phone) body = pack.lines.callback_ask_both;
  else if (!next.scheduled_for) {
    body = pack.lines.callback_ask_time({
      hoursHint: ctx.profile.settings.callbacks_within_business_hours ? hoursText(ctx) : null,
    });
  } else body = pack.lines.callback_ask_phone({ channelPhone });
  if (next.scheduled_for && !next.phone && channelPhone) {
    buttons.push({ id: CALLBACK_USE_THIS_NUMBER, title: pack.lines.buttons.use_this_number });
  }
  buttons.push(cancel);
  return { kind: "ask", reply: { body, buttons }, state: next };
}
