// The rule-based brain: a deterministic intent engine over the phrases in language.ts. It answers
// when there is no LLM (the local default) and whenever the LLM fails, times out, is rate-limited or
// its breaker is open. It decides; the pipeline runs the actions, the same code whichever brain asked.
import { type Intent, type LanguagePack } from "./language.ts";

/** Lower case, no accents, letters and digits only, single spaces: "Can't   STOP!" → "cant stop". */
export function normalizeText(text: string): string {
  return text
    .normalize("NFD")
    .replace(/[\u0300-\u036f]/g, "")
    .toLowerCase()
    .replace(/['’`]/g, "")
    .replace(/[^a-z0-9]+/g, " ")
    .trim();
}

function contains(haystack: string, phrase: string): boolean {
  const needle = normalizeText(phrase);
  if (needle === "") return false;
  return ` ${haystack} `.includes(` ${needle} `);
}

/** Priority when several intents match: ending or escalating beats being polite. */
const ORDER: Intent[] = ["end_chat", "handoff", "callback", "resolved", "cancel", "thanks", "greeting"];

export interface IntentMatch {
  intent: Intent;
  phrase: string;
}

/**
 * The intent of `text`, or null. Among matching intents, the one whose matched phrase is longest
 * wins (more specific), ties broken by ORDER. Greetings and thanks match only short messages: "hi,
 * my furnace is broken" is a question, not a greeting.
 */
export function detectIntent(text: string, pack: LanguagePack): IntentMatch | null {
  const normal = normalizeText(text ?? "").slice(0, 2000);
  if (normal === "") return null;
  const words = normal.split(" ").length;
  let best: IntentMatch | null = null;
  for (const intent of ORDER) {
    if ((intent === "greeting" || intent === "thanks") && words > 5) continue;
    const spec = pack.intents[intent];
    if (spec.unless?.some((p) => contains(normal, p))) continue;
    for (const phrase of spec.phrases) {
      if (!contains(normal, phrase)) continue;
      if (!best || normalizeText(phrase).length > normalizeText(best.phrase).length) best = { intent, phrase };
    }
  }
  return best;
}

const FILLER = new Set([
  "a", "an", "the", "i", "me", "my", "you", "we", "us", "can", "could", "would", "please", "at", "on", "to", "for",
  "is", "it", "and", "or", "am", "pm", "today", "tomorrow", "tonight", "morning", "afternoon", "evening", "this",
  "number", "phone", "mon", "monday", "tue", "tuesday", "wed", "wednesday", "thu", "thursday", "fri", "friday",
  "sat", "saturday", "sun", "sunday", "next", "week", "oclock", "noon",
]);

/**
 * True when `text` says nothing about an issue: once the phrases of every intent, small-talk words,
 * times, numbers and filler words are taken out, fewer than two words remain. "Hi", "call me back
 * tomorrow at 2pm" and "416 555 0199" are small talk; "my furnace is banging, call me back" is not.
 */
export function isSmallTalk(text: string, pack: LanguagePack): boolean {
  let normal = ` ${normalizeText(text ?? "")} `;
  for (const spec of Object.values(pack.intents)) {
    for (const phrase of spec.phrases) {
      const needle = normalizeText(phrase);
      if (needle) normal = normal.split(` ${needle} `).join(" ");
    }
  }
  const small = new Set(pack.smallTalk.map(normalizeText));
  const rest = normal.trim().split(" ").filter((w) =>
    w !== "" && !small.has(w) && !FILLER.has(w) && !/^\d+(am|pm)?$/.test(w)
  );
  return rest.length < 2;
}
