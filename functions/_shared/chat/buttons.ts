// The buttons the bot offers and the ids channels send back when a customer taps one. The ids are a
// contract with widgets and WhatsApp templates already in use: AGENT_MODE ("Instant Chat" / "Talk to
// Expert" in the systems this replaces) and SCHEDULE_CALLBACK. Titles fit WhatsApp's 20 characters.
import type { Button } from "./types.ts";

export const AGENT_MODE = "AGENT_MODE";
export const SCHEDULE_CALLBACK = "SCHEDULE_CALLBACK";
/** "Call me on this number": the customer's channel number for a callback (WhatsApp). */
export const CALLBACK_USE_THIS_NUMBER = "CALLBACK_USE_THIS_NUMBER";
export const CANCEL_CALLBACK = "CANCEL_CALLBACK";

export const KNOWN_BUTTONS = new Set([AGENT_MODE, SCHEDULE_CALLBACK, CALLBACK_USE_THIS_NUMBER, CANCEL_CALLBACK]);

export function isKnownButton(id: unknown): id is string {
  return typeof id === "string" && KNOWN_BUTTONS.has(id);
}

export const MAX_BUTTON_TITLE = 20;
export const MAX_BUTTONS = 3;

/** Buttons safe for every channel: at most 3, titles cut to 20 characters, ids unique. */
export function normalizeButtons(buttons: Button[] | undefined): Button[] {
  const seen = new Set<string>();
  const out: Button[] = [];
  for (const b of buttons ?? []) {
    if (!b.id || seen.has(b.id)) continue;
    seen.add(b.id);
    out.push({ id: b.id, title: [...b.title].slice(0, MAX_BUTTON_TITLE).join("") });
    if (out.length === MAX_BUTTONS) break;
  }
  return out;
}
