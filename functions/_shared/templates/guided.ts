// The guided flow: the builder without a model. Deterministic: the same messages always give the same
// draft and replies. It reads two kinds of message:
//
//   * `field: value` lines, any number in one message (category, language, name, body, examples,
//     header, header_example, footer, button/buttons). A message that gives everything goes straight
//     to review:
//         category: utility
//         language: en_US
//         name: appointment_reminder
//         body: Hi {{1}}, your appointment is tomorrow at {{2}}. Reply below to change it.
//         examples: Maria | 10:30 AM
//         header: none
//         footer: none
//         buttons: quick reply Reschedule
//   * a plain answer to the question last asked (memory.pending), e.g. "utility, en_US", "yes",
//     "Maria | 10:30 AM", "no".
//
// A first message that is a description ("a reminder for tomorrow's appointment ... and a button to
// reschedule") is remembered, and gives suggestions (category, name, a quick reply) that "yes" accepts.
// In review, "confirm" (or yes/ok/looks good) makes the draft final; any field line edits it.
import { type Draft, type DraftButton, type Field, missingFields } from "./draft.ts";
import { TEMPLATE_LANGUAGES, suggestLanguage } from "./languages.ts";
import type { Category } from "./validator.ts";

export type Memory = Record<string, unknown>;

export interface TurnInput {
  draft: Draft;
  memory: Memory;
  state: "gathering" | "review" | "final";
  message: string;
}

export interface TurnOutcome {
  draft: Draft;
  memory: Memory;
  /** The user confirmed the draft as it is. */
  confirmed: boolean;
  lastAction: string;
  /** Things to tell the user (an answer not understood, a value refused). */
  notes: string[];
}

const YES = /^(y|yes|yeah|yep|sure|ok|okay|correct|confirm(ed)?|looks good|lgtm|go ahead|approve|final(ise|ize)?|submit|do it)[.! ]*$/i;
const NO = /^(n|no|nope|none|skip|no thanks|nothing|not needed|without)[.! ]*$/i;

const LANGUAGE_NAMES: Record<string, string> = {
  english: "en_US", "us english": "en_US", "british english": "en_GB", "uk english": "en_GB",
  spanish: "es", "mexican spanish": "es_MX", french: "fr", german: "de", italian: "it", portuguese: "pt_BR",
  "brazilian portuguese": "pt_BR", "european portuguese": "pt_PT", dutch: "nl", arabic: "ar", hindi: "hi",
  japanese: "ja", korean: "ko", chinese: "zh_CN", russian: "ru", turkish: "tr", polish: "pl", swedish: "sv",
  indonesian: "id", filipino: "fil", tagalog: "fil", vietnamese: "vi", thai: "th", ukrainian: "uk",
};

const KEYS: Record<string, string> = {
  category: "category", type: "category",
  language: "language", lang: "language", locale: "language",
  name: "name", template: "name", "template name": "name",
  body: "body", text: "body", message: "body",
  examples: "examples", example: "examples", "body examples": "examples", samples: "examples",
  header: "header", title: "header", "header example": "header_example",
  footer: "footer",
  button: "buttons", buttons: "buttons",
  expiry: "expiry", "code expiration minutes": "expiry", "expires in": "expiry",
  business: "business", "business type": "business",
};
const LINE = /^\s*([a-z][a-z ]{1,30}?)\s*[:=]\s*(.*)$/i;

/** Reads a category from an answer: the word, or a description that makes it plain. */
export function parseCategory(text: string): Category | null {
  const t = text.toLowerCase();
  if (/\bmarketing\b|\bpromo/.test(t)) return "MARKETING";
  if (/\butility\b|\butilities\b|\btransactional\b/.test(t)) return "UTILITY";
  if (/\bauthentication\b|\bauth\b|\botp\b|one[- ]time pass/.test(t)) return "AUTHENTICATION";
  return null;
}

/** A category a description suggests (asked, never assumed). */
export function suggestCategory(text: string): Category | null {
  const t = text.toLowerCase();
  if (/\b(verification|login|log in|sign[- ]in|passcode|otp|2fa)\b/.test(t)) return "AUTHENTICATION";
  if (/\b(sale|offer|discount|promo\w*|newsletter|deal|coupon|launch|campaign)\b/.test(t)) return "MARKETING";
  if (/\b(remind\w*|appointment|order|delivery|shipping|shipped|invoice|payment|booking|reservation|account|confirm\w*|update)\b/.test(t)) return "UTILITY";
  return null;
}

/** A template name from a description: its first two significant words. */
export function suggestName(text: string): string | null {
  const stop = new Set(["a", "an", "the", "for", "of", "to", "with", "and", "my", "our", "i", "we", "need", "want",
    "template", "message", "whatsapp", "please", "customer", "customers", "s", "tomorrow", "today", "that", "which", "send"]);
  const words = text.toLowerCase().replace(/[^a-z0-9 ]+/g, " ").split(/\s+/).filter((w) => w.length > 1 && !stop.has(w));
  const noun = words.find((w) => /^(appointment|order|delivery|payment|invoice|booking|reservation|account|password|login|sale|offer)s?$/.test(w));
  const kind = words.find((w) => /^(remind\w*|confirm\w*|update|alert|notice|receipt|code|promo\w*)$/.test(w));
  const parts = [noun, kind ? kind.replace(/^remind\w*$/, "reminder").replace(/^confirm\w*$/, "confirmation") : undefined]
    .filter((x): x is string => !!x);
  const name = (parts.length ? parts : words.slice(0, 2)).join("_").slice(0, 60);
  return name && /^[a-z]/.test(name) ? name : null;
}

export function parseLanguage(text: string): string | null {
  const t = text.trim();
  for (const token of t.split(/[\s,;]+/)) {
    const clean = token.replace(/[.!]+$/, "");
    if (TEMPLATE_LANGUAGES.has(clean)) return clean;
    const hint = suggestLanguage(clean);
    if (hint && /^[a-z]{2,3}([-_][a-z]{2})?$/i.test(clean)) return hint;
  }
  const lower = t.toLowerCase();
  const names = Object.keys(LANGUAGE_NAMES).sort((a, b) => b.length - a.length);
  for (const n of names) if (new RegExp(`\\b${n}\\b`).test(lower)) return LANGUAGE_NAMES[n];
  return null;
}

export function slugName(text: string): string | null {
  const s = text.trim().toLowerCase().replace(/[^a-z0-9]+/g, "_").replace(/^_+|_+$/g, "").slice(0, 512);
  return s.length > 0 ? s : null;
}

/** Named placeholders ({{customer_name}}) become positional ones, numbered by first appearance. */
export function toPositional(body: string): { text: string; labels: string[] } {
  const labels: string[] = [];
  const text = body.replace(/\{\{\s*([A-Za-z_][A-Za-z0-9_ ]*|[0-9]+)\s*\}\}/g, (_m, inner: string) => {
    const key = inner.trim();
    if (/^[0-9]+$/.test(key)) return `{{${key}}}`;
    let i = labels.indexOf(key);
    if (i < 0) {
      labels.push(key);
      i = labels.length - 1;
    }
    return `{{${i + 1}}}`;
  });
  // A body that mixes both keeps its numbers as written; the validator reports the problem.
  return { text, labels: /\{\{[0-9]+\}\}/.test(body) && labels.length > 0 ? [] : labels };
}

export function splitExamples(text: string): string[] {
  const sep = text.includes("|") ? "|" : text.includes("\n") ? "\n" : text.includes(";") ? ";" : ",";
  return text.split(sep).map((s) => s.trim()).filter((s) => s.length > 0);
}

/** One button from "quick reply Reschedule", "url Book https://...", "call Us +1416...", "copy code SAVE10". */
export function parseButton(text: string): DraftButton | null {
  const t = text.trim().replace(/^[-*•]\s*/, "");
  if (!t) return null;
  const urlMatch = /(https?:\/\/\S+)/i.exec(t);
  const base = { text: null, url: null, example: null, phone_number: null } as DraftButton;
  if (/^(copy[ _-]?code|coupon)\b/i.test(t)) {
    const code = t.replace(/^(copy[ _-]?code|coupon)\s*[:=]?\s*/i, "").trim();
    return { ...base, type: "COPY_CODE", example: code || null };
  }
  if (urlMatch || /^(url|link|website|visit)\b/i.test(t)) {
    const label = t.replace(/^(url|link|website|visit)\s*[:=]?\s*/i, "").replace(urlMatch?.[1] ?? "", "").trim();
    const url = urlMatch?.[1] ?? null;
    return { ...base, type: "URL", text: label || "Visit website", url, example: url?.includes("{{") ? "example" : null };
  }
  const phone = /(\+?[0-9][0-9 ().-]{6,}[0-9])/.exec(t);
  if (phone || /^(call|phone)\b/i.test(t)) {
    const label = t.replace(/^(phone|call)\s*[:=]?\s*/i, "").replace(phone?.[1] ?? "", "").trim();
    return { ...base, type: "PHONE_NUMBER", text: label ? (/^call\b/i.test(t) && !/^call/i.test(label) ? `Call ${label}` : label) : "Call us", phone_number: phone ? phone[1].replace(/[^0-9+]/g, "") : null };
  }
  const label = t.replace(/^(quick[ _-]?reply|reply|qr)\s*[:=]?\s*/i, "").trim();
  return label ? { ...base, type: "QUICK_REPLY", text: label } : null;
}

export function parseButtons(text: string): DraftButton[] {
  return text.split(/[;\n]|,(?![^(]*\))(?=\s*(?:quick|reply|qr|url|link|call|phone|copy)\b)/i)
    .map(parseButton).filter((b): b is DraftButton => b !== null);
}

function applyField(draft: Draft, memory: Memory, key: string, value: string, notes: string[]): void {
  const v = value.trim();
  switch (key) {
    case "category": {
      const c = parseCategory(v);
      if (c) draft.category = c;
      else notes.push(`"${v.slice(0, 40)}" is not a category: choose UTILITY, MARKETING or AUTHENTICATION.`);
      return;
    }
    case "language": {
      const l = parseLanguage(v);
      if (l) draft.language = l;
      else notes.push(`"${v.slice(0, 40)}" is not a template language I know: use a code such as en_US, es or pt_BR.`);
      return;
    }
    case "name": {
      const n = YES.test(v) && typeof memory.suggested_name === "string" ? memory.suggested_name : slugName(v);
      if (n) draft.name = n;
      return;
    }
    case "body": {
      if (!v) return;
      const { text, labels } = toPositional(v);
      if (text !== draft.body) draft.body_examples = [];
      draft.body = text;
      memory.variable_labels = labels.length ? labels : null;
      return;
    }
    case "examples":
      draft.body_examples = splitExamples(v);
      return;
    case "header": {
      if (NO.test(v)) {
        draft.wants_header = false;
        draft.header = null;
      } else if (/^location$/i.test(v)) {
        draft.wants_header = true;
        draft.header = { format: "LOCATION", text: null, example: null, media_handle: null };
      } else {
        draft.wants_header = true;
        draft.header = { format: "TEXT", text: toPositional(v).text, example: null, media_handle: null };
      }
      return;
    }
    case "header_example":
      if (draft.header) draft.header = { ...draft.header, example: v || null };
      return;
    case "footer":
      if (NO.test(v)) {
        draft.wants_footer = false;
        draft.footer = null;
      } else {
        draft.wants_footer = true;
        draft.footer = v;
      }
      return;
    case "buttons": {
      if (NO.test(v)) {
        draft.wants_buttons = false;
        draft.buttons = [];
        return;
      }
      if (YES.test(v) && isButton(memory.suggested_button)) {
        draft.wants_buttons = true;
        draft.buttons = [...draft.buttons, memory.suggested_button];
        return;
      }
      const parsed = parseButtons(v);
      if (parsed.length === 0) {
        notes.push("I could not read a button there: write e.g. \"quick reply Reschedule\" or \"url Book https://example.com/book\".");
        return;
      }
      draft.wants_buttons = true;
      draft.buttons = [...(memory.buttons_started ? draft.buttons : []), ...parsed];
      memory.buttons_started = true;
      return;
    }
    case "business":
      if (v) draft.business_type = v.slice(0, 100);
      return;
    case "expiry": {
      const n = Number(v.replace(/[^0-9]/g, ""));
      if (Number.isInteger(n) && n > 0) draft.code_expiration_minutes = n;
      return;
    }
  }
}

function isButton(value: unknown): value is DraftButton {
  return typeof value === "object" && value !== null && "type" in value;
}

/** Answers to the question last asked, when the message has no `field:` lines. */
function applyAnswer(draft: Draft, memory: Memory, pending: Field[], message: string, notes: string[]): boolean {
  const m = message.trim();
  const first = pending[0];
  if (!first) return false;
  if (first === "category" || first === "language") {
    let understood = false;
    const c = parseCategory(m) ?? (YES.test(m) && typeof memory.suggested_category === "string" ? memory.suggested_category as Category : null);
    if (c && !draft.category) {
      draft.category = c;
      understood = true;
    }
    const l = parseLanguage(m);
    if (l && !draft.language) {
      draft.language = l;
      understood = true;
    }
    if (!understood) notes.push("I did not catch that: name a category (UTILITY, MARKETING or AUTHENTICATION) and a language code such as en_US.");
    return understood;
  }
  switch (first) {
    case "name":
      applyField(draft, memory, "name", m, notes);
      return true;
    case "body":
      applyField(draft, memory, "body", m, notes);
      return true;
    case "body_examples":
      applyField(draft, memory, "examples", m, notes);
      return true;
    case "header_example":
      applyField(draft, memory, "header_example", m, notes);
      return true;
    case "wants_header":
    case "wants_footer":
    case "wants_buttons":
    case "header":
    case "footer":
    case "buttons": {
      // The optional parts are asked together: "no"/"none" declines every part still open.
      if (NO.test(m)) {
        if (draft.wants_header === null) draft.wants_header = false;
        if (draft.wants_footer === null) draft.wants_footer = false;
        if (draft.wants_buttons === null) draft.wants_buttons = false;
        return true;
      }
      if (YES.test(m) && isButton(memory.suggested_button) && draft.wants_buttons === null) {
        draft.wants_buttons = true;
        draft.buttons = [memory.suggested_button];
        if (draft.wants_header === null) draft.wants_header = false;
        if (draft.wants_footer === null) draft.wants_footer = false;
        return true;
      }
      // A bare answer fills the first part asked about.
      const key = first === "wants_header" || first === "header" ? "header" : first === "wants_footer" || first === "footer" ? "footer" : "buttons";
      applyField(draft, memory, key, m, notes);
      return true;
    }
  }
  return false;
}

/** One turn of the guided flow. Pure: returns a new draft and memory. */
export function guidedTurn(input: TurnInput): TurnOutcome {
  const draft: Draft = structuredClone(input.draft);
  const memory: Memory = { ...input.memory };
  const notes: string[] = [];
  const message = input.message.trim();
  const before = JSON.stringify(draft);

  // `field: value` lines first.
  const lines = message.split(/\r?\n/);
  let fieldLines = 0;
  let sawOptional = false;
  for (const line of lines) {
    const m = LINE.exec(line);
    const key = m ? KEYS[m[1].trim().toLowerCase()] : undefined;
    if (!m || !key) continue;
    fieldLines++;
    if (key === "header" || key === "footer" || key === "buttons") sawOptional = true;
    applyField(draft, memory, key, m[2], notes);
  }
  memory.buttons_started = null;

  let lastAction = "edited";
  if (fieldLines > 0) {
    // Optional parts not mentioned in a message that set others are declined: the user saw the choice.
    if (sawOptional) {
      if (draft.wants_header === null) draft.wants_header = false;
      if (draft.wants_footer === null) draft.wants_footer = false;
      if (draft.wants_buttons === null) draft.wants_buttons = false;
    }
  } else if ((input.state === "review" || input.state === "final") && YES.test(message)) {
    return { draft, memory: { ...memory, pending: null }, confirmed: true, lastAction: "confirmed", notes };
  } else if (input.state === "final" && !YES.test(message)) {
    notes.push("The template is final. To change it, send a field line such as \"footer: Thanks for choosing us\".");
    lastAction = "kept_final";
  } else {
    const pending = Array.isArray(memory.pending) ? memory.pending as Field[] : [];
    const answered = pending.length > 0 && applyAnswer(draft, memory, pending, message, notes);
    if (!answered && !memory.description && pending.length <= 1 && input.state === "gathering" && !draft.category) {
      // A description: remember it and make suggestions to confirm.
      memory.description = message.slice(0, 1000);
      const category = parseCategory(message) ?? null;
      if (category) draft.category = category;
      memory.suggested_category = category ? null : suggestCategory(message);
      memory.suggested_name = suggestName(message);
      const button = /\bbutton(?:s)?\s+(?:to|for|that says|saying|labelled|labeled)\s+["']?([a-z][a-z ]{1,20}?)["']?(?:[.,;]|$|\s+and\b)/i.exec(message);
      memory.suggested_button = button
        ? { type: "QUICK_REPLY", text: button[1].trim().replace(/^./, (c) => c.toUpperCase()), url: null, example: null, phone_number: null }
        : null;
      // A language code (en_US) counts anywhere; a language's name only as "in Spanish".
      const business = /\b(?:i|we) (?:run|own|have|manage) (?:an? |the )?([a-z][a-z -]{2,40}?)(?=[.,;!]|$| and | with | in )/i.exec(message);
      if (business) draft.business_type = business[1].trim();
      const lang = parseLanguage(message);
      const hasCode = message.split(/[\s,;]+/).some((t) => TEMPLATE_LANGUAGES.has(t.replace(/[.!]+$/, "")) && t.length > 2);
      if (lang && (hasCode || /\b(in|language)\b/i.test(message))) draft.language = lang;
      lastAction = "described";
    } else if (answered) lastAction = `answered_${pending[0]}`;
    else lastAction = "not_understood";
  }

  const changed = JSON.stringify(draft) !== before;
  // Asked next: the first missing field, with the optional parts asked together.
  memory.pending = missingFields(draft).slice(0, 1);
  if (draft.category) memory.category = draft.category;
  if (draft.business_type) memory.business_type = draft.business_type;
  if (draft.language) memory.language = draft.language;
  memory.wants_header = draft.wants_header;
  memory.wants_footer = draft.wants_footer;
  memory.wants_buttons = draft.wants_buttons;
  return { draft, memory, confirmed: false, lastAction: changed || lastAction !== "edited" ? lastAction : "unchanged", notes };
}
