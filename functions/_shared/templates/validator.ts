// The WhatsApp template validator: a pure function from a Meta creation payload (the JSON sent to
// POST /<WABA_ID>/message_templates) to the rules it breaks. No I/O, no clock, no randomness: the
// conversation, the `validate` route, the submission path and the benchmark all call this one module.
//
//   validateTemplate(payload) → { valid, errors: [{rule, path, message}], warnings: [...] }
//
// `rule` is a stable code from rules.ts (each with its source); `path` points into the payload
// (`components[1].buttons[0].url`). A payload is valid when it has no errors; warnings are risks or
// rules that no Meta page confirms, and each warning's message says so. Meta accepts upper- and
// lower-case types and categories (its own examples use both), so the checks compare upper-case.
import { TEMPLATE_LANGUAGES, suggestLanguage } from "./languages.ts";
import { type RuleCode, RULES } from "./rules.ts";

export interface Issue {
  rule: RuleCode;
  path: string;
  message: string;
}

export interface ValidationResult {
  valid: boolean;
  errors: Issue[];
  warnings: Issue[];
}

export const LIMITS = {
  nameLength: 512,
  bodyLength: 1024,
  headerTextLength: 60,
  footerLength: 60,
  buttonsTotal: 10,
  urlButtons: 2,
  phoneButtons: 1,
  copyCodeButtons: 1,
  buttonText: 25,
  urlLength: 2000,
  phoneLength: 20,
  copyCodeExample: 20,
  /** The older copy of Meta's page: longer examples get a warning. */
  copyCodeExampleSafe: 15,
  expiryMin: 1,
  expiryMax: 90,
  supportedAppsMax: 5,
  signatureHashLength: 11,
} as const;

export const CATEGORIES = ["MARKETING", "UTILITY", "AUTHENTICATION"] as const;
export type Category = (typeof CATEGORIES)[number];
const HEADER_FORMATS = new Set(["TEXT", "IMAGE", "VIDEO", "DOCUMENT", "LOCATION", "GIF"]);
const MEDIA_FORMATS = new Set(["IMAGE", "VIDEO", "DOCUMENT", "GIF"]);
const COMPONENT_TYPES = new Set(["HEADER", "BODY", "FOOTER", "BUTTONS", "CAROUSEL", "LIMITED_TIME_OFFER"]);
const BUTTON_TYPES = new Set([
  "QUICK_REPLY", "URL", "PHONE_NUMBER", "COPY_CODE", "OTP", "MPM", "SPM", "CATALOG", "FLOW", "VOICE_CALL",
]);
const LABELLED_BUTTONS = new Set(["QUICK_REPLY", "URL", "PHONE_NUMBER", "FLOW", "VOICE_CALL"]);
const OTP_TYPES = new Set(["COPY_CODE", "ONE_TAP", "ZERO_TAP"]);
const SHORTENERS = new Set([
  "bit.ly", "tinyurl.com", "t.co", "goo.gl", "ow.ly", "is.gd", "buff.ly", "rebrand.ly", "cutt.ly", "shorturl.at", "rb.gy",
]);
const TTL_RANGES: Record<Category, [number, number]> = {
  AUTHENTICATION: [30, 900],
  UTILITY: [30, 43_200],
  MARKETING: [43_200, 2_592_000],
};

const EMOJI = /\p{Extended_Pictographic}/u;
const URL_IN_TEXT = /\bhttps?:\/\/|\bwww\.[a-z0-9-]+\.[a-z]/i;
const WORDISH = /[\p{L}\p{N}]/u;

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);
const isNonEmptyString = (v: unknown): v is string => typeof v === "string" && v.trim().length > 0;
const upper = (v: unknown): string | null => (typeof v === "string" ? v.trim().toUpperCase() : null);
/** Length in characters (code points), as a person counts them. */
const chars = (s: string): number => [...s].length;

// ---------------------------------------------------------------------------------------------
// Placeholders
// ---------------------------------------------------------------------------------------------

export interface Placeholder {
  kind: "positional" | "named";
  /** The number for positional placeholders, the name for named ones. */
  key: string;
  start: number;
  end: number;
}

const TOKEN = /\{\{([^{}]*)\}\}/g;

/** The well-formed placeholders of a text; malformed ones are reported through `report`. */
export function scanPlaceholders(text: string, report?: (rule: RuleCode, message: string) => void): Placeholder[] {
  const found: Placeholder[] = [];
  for (const m of text.matchAll(TOKEN)) {
    const inner = m[1];
    const start = m.index!;
    const end = start + m[0].length;
    if (/^[1-9][0-9]*$/.test(inner)) found.push({ kind: "positional", key: inner, start, end });
    else if (/^[a-z_][a-z0-9_]*$/.test(inner)) found.push({ kind: "named", key: inner, start, end });
    else if (/[^A-Za-z0-9_\s]/.test(inner)) {
      report?.("PLACEHOLDER_SPECIAL_CHARACTERS", `${m[0]}: variables may not contain characters such as # $ %`);
    } else if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(inner)) {
      report?.("PLACEHOLDER_NAMED_FORMAT", `${m[0]}: named variables are lowercase, e.g. {{${inner.toLowerCase()}}}`);
    } else {
      report?.("PLACEHOLDER_MALFORMED", `${m[0]}: write {{1}}, {{2}}, ... or {{a_name}}, without spaces or leading zeros`);
    }
  }
  const rest = text.replace(TOKEN, " ");
  if (rest.includes("{{") || rest.includes("}}")) {
    report?.("PLACEHOLDER_MALFORMED", "mismatched curly braces: a variable is written {{1}}");
  } else if (/\{\s*[A-Za-z0-9_]+\s*\}/.test(rest)) {
    report?.("PLACEHOLDER_MALFORMED", "single curly braces: a variable is written {{1}}");
  }
  return found;
}

/** Fixed words of a text (anything with a letter or digit, placeholders removed). */
export function fixedWords(text: string): number {
  return text.replace(TOKEN, " ").split(/\s+/).filter((w) => WORDISH.test(w)).length;
}

// ---------------------------------------------------------------------------------------------
// The validator
// ---------------------------------------------------------------------------------------------

class Collector {
  readonly errors: Issue[] = [];
  readonly warnings: Issue[] = [];
  add(rule: RuleCode, path: string, message: string): void {
    const info = RULES[rule];
    if (info.severity === "error") this.errors.push({ rule, path, message });
    else this.warnings.push({ rule, path, message: info.confirmed ? message : `${message} (unconfirmed: ${info.source.replace(/^UNCONFIRMED: /, "")})` });
  }
}

interface Scope {
  out: Collector;
  category: Category | null;
  format: "named" | "positional";
  /** Kinds of placeholder seen in header and body, for the mixing check. */
  kinds: Set<"named" | "positional">;
}

export function validateTemplate(payload: unknown): ValidationResult {
  const out = new Collector();
  if (!isObject(payload)) {
    out.add("PAYLOAD_INVALID", "", "the template must be a JSON object");
    return finish(out);
  }

  // Name
  const name = payload.name;
  if (!isNonEmptyString(name)) out.add("NAME_REQUIRED", "name", "name is required");
  else {
    if (!/^[a-z0-9_]+$/.test(name)) out.add("NAME_FORMAT", "name", "name may contain only lowercase letters, digits and underscores");
    if (chars(name) > LIMITS.nameLength) out.add("NAME_TOO_LONG", "name", `name is longer than ${LIMITS.nameLength} characters`);
    if (/^[0-9_]/.test(name)) out.add("NAME_LEADING_LETTER", "name", "name does not start with a letter");
  }

  // Language
  const language = payload.language;
  if (typeof language !== "string" || !TEMPLATE_LANGUAGES.has(language)) {
    const hint = typeof language === "string" ? suggestLanguage(language) : null;
    out.add(
      "LANGUAGE_UNSUPPORTED",
      "language",
      typeof language !== "string"
        ? "language is required, e.g. en_US"
        : `language ${JSON.stringify(language.slice(0, 20))} is not a supported template language${hint ? `; did you mean ${hint}?` : ""}`,
    );
  }

  // Category
  const categoryText = upper(payload.category);
  const category = (CATEGORIES as readonly string[]).includes(categoryText ?? "") ? (categoryText as Category) : null;
  if (!category) out.add("CATEGORY_INVALID", "category", "category must be MARKETING, UTILITY or AUTHENTICATION");

  // Parameter format
  let format: "named" | "positional" = "positional";
  if (payload.parameter_format !== undefined) {
    const f = upper(payload.parameter_format);
    if (f === "NAMED") format = "named";
    else if (f !== "POSITIONAL") {
      out.add("PARAMETER_FORMAT_INVALID", "parameter_format", "parameter_format must be named or positional");
    }
  }

  // Time to live
  const ttl = payload.message_send_ttl_seconds;
  if (ttl !== undefined) {
    if (typeof ttl !== "number" || !Number.isInteger(ttl) || ttl <= 0) {
      out.add("TTL_INVALID", "message_send_ttl_seconds", "message_send_ttl_seconds must be a positive integer");
    } else if (category) {
      const [lo, hi] = TTL_RANGES[category];
      if (ttl < lo || ttl > hi) {
        out.add("TTL_RANGE", "message_send_ttl_seconds", `${category} templates usually take a TTL from ${lo} to ${hi} seconds`);
      }
    }
  }

  // Components
  const components = payload.components;
  if (!Array.isArray(components) || components.length === 0) {
    out.add("COMPONENTS_REQUIRED", "components", "components must be a non-empty array");
    return finish(out);
  }
  const scope: Scope = { out, category, format, kinds: new Set() };
  const seen = new Map<string, number>();
  components.forEach((component, i) => {
    const path = `components[${i}]`;
    const type = isObject(component) ? upper(component.type) : null;
    if (!isObject(component) || !type || !COMPONENT_TYPES.has(type)) {
      out.add("COMPONENT_INVALID", path, "a component is an object whose type is HEADER, BODY, FOOTER or BUTTONS");
      return;
    }
    const count = (seen.get(type) ?? 0) + 1;
    seen.set(type, count);
    if (count > 1) {
      if (type === "BODY") out.add("BODY_MISSING", path, "a template has exactly one BODY");
      else out.add("COMPONENT_DUPLICATE", path, `a template has at most one ${type}`);
      return;
    }
    if (type === "CAROUSEL" || type === "LIMITED_TIME_OFFER") {
      out.add("COMPONENT_NOT_CHECKED", path, `${type} is passed to Meta as it is: this validator does not check it`);
      return;
    }
    if (category === "AUTHENTICATION") checkAuthComponent(type, component, path, scope);
    else if (type === "HEADER") checkHeader(component, path, scope);
    else if (type === "BODY") checkBody(component, path, scope);
    else if (type === "FOOTER") checkFooter(component, path, scope);
    else checkButtons(component, path, scope);
  });
  if (!seen.has("BODY")) out.add("BODY_MISSING", "components", "a template has exactly one BODY");
  if (scope.kinds.size > 1) {
    out.add("PLACEHOLDER_MIXED", "components", "named ({{name}}) and positional ({{1}}) variables are mixed");
  }
  return finish(out);
}

function finish(out: Collector): ValidationResult {
  return { valid: out.errors.length === 0, errors: out.errors, warnings: out.warnings };
}

/** Placeholders of a header or body text, with the checks every such text shares. */
function textPlaceholders(text: string, path: string, s: Scope): Placeholder[] {
  const found = scanPlaceholders(text, (rule, message) => s.out.add(rule, path, message));
  for (const p of found) {
    s.kinds.add(p.kind);
    if (p.kind !== s.format) {
      s.out.add(
        "PARAMETER_FORMAT_MISMATCH",
        path,
        s.format === "named"
          ? `{{${p.key}}} is positional but parameter_format is named`
          : `{{${p.key}}} is named: set "parameter_format": "named" (positional is the default)`,
      );
      break;
    }
  }
  // Positional numbers run 1..n in order of first appearance, per component.
  const order: number[] = [];
  for (const p of found) {
    const n = Number(p.key);
    if (p.kind === "positional" && !order.includes(n)) order.push(n);
  }
  if (order.some((n, i) => n !== i + 1)) {
    s.out.add("PLACEHOLDER_NOT_SEQUENTIAL", path, `variables must be numbered {{1}}, {{2}}, ... in order; found ${order.map((n) => `{{${n}}}`).join(", ")}`);
  }
  return found;
}

function checkExamples(
  component: Json,
  path: string,
  found: Placeholder[],
  s: Scope,
  which: "body" | "header",
): void {
  const example = component.example;
  const positionalKey = which === "body" ? "body_text" : "header_text";
  const namedKey = which === "body" ? "body_text_named_params" : "header_text_named_params";
  const positional = [...new Set(found.filter((p) => p.kind === "positional").map((p) => p.key))];
  const named = [...new Set(found.filter((p) => p.kind === "named").map((p) => p.key))];
  const ex = isObject(example) ? example : {};
  const hasPositional = ex[positionalKey] !== undefined;
  const hasNamed = ex[namedKey] !== undefined;
  const epath = `${path}.example`;

  if (found.length === 0) {
    if (hasPositional || hasNamed) s.out.add("EXAMPLE_MISMATCH", epath, "examples are given but the text has no variables");
    return;
  }
  if (!hasPositional && !hasNamed) {
    s.out.add("EXAMPLE_MISSING", epath, `each variable needs an example value (example.${named.length ? namedKey : positionalKey})`);
    return;
  }

  if (positional.length > 0) {
    if (!hasPositional) {
      s.out.add("EXAMPLE_MISSING", epath, `positional variables need example.${positionalKey}`);
    } else {
      const raw = ex[positionalKey];
      // body_text is an array holding one array of strings; header_text is a flat array of strings.
      const values = which === "body" ? (Array.isArray(raw) && Array.isArray(raw[0]) ? raw[0] : null) : raw;
      if (!Array.isArray(values) || (which === "body" && Array.isArray(raw) && raw.length !== 1)) {
        s.out.add("EXAMPLE_INVALID", `${epath}.${positionalKey}`, which === "body"
          ? "body_text is an array holding one array of example strings: [[\"...\", \"...\"]]"
          : "header_text is an array of example strings: [\"...\"]");
      } else if (values.some((v) => !isNonEmptyString(v))) {
        s.out.add("EXAMPLE_INVALID", `${epath}.${positionalKey}`, "example values are non-empty strings");
      } else if (values.length !== positional.length) {
        s.out.add("EXAMPLE_MISMATCH", `${epath}.${positionalKey}`, `${positional.length} variable(s) but ${values.length} example value(s)`);
      }
    }
  } else if (hasPositional) {
    s.out.add("EXAMPLE_MISMATCH", `${epath}.${positionalKey}`, "positional examples are given but the text has no positional variables");
  }

  if (named.length > 0) {
    if (!hasNamed) {
      s.out.add("EXAMPLE_MISSING", epath, `named variables need example.${namedKey}`);
      return;
    }
    const raw = ex[namedKey];
    if (!Array.isArray(raw) || raw.some((e) => !isObject(e) || !isNonEmptyString(e.param_name) || !isNonEmptyString(e.example))) {
      s.out.add("EXAMPLE_INVALID", `${epath}.${namedKey}`, `${namedKey} is an array of {"param_name", "example"} with non-empty strings`);
      return;
    }
    const given = raw.map((e) => (e as Json).param_name as string);
    const missing = named.filter((n) => !given.includes(n));
    const extra = given.filter((g, i) => !named.includes(g) || given.indexOf(g) !== i);
    if (missing.length || extra.length) {
      const parts = [
        missing.length ? `missing example for ${missing.join(", ")}` : "",
        extra.length ? `unexpected or repeated example for ${extra.join(", ")}` : "",
      ].filter(Boolean);
      s.out.add("EXAMPLE_MISMATCH", `${epath}.${namedKey}`, parts.join("; "));
    }
  } else if (hasNamed) {
    s.out.add("EXAMPLE_MISMATCH", `${epath}.${namedKey}`, "named examples are given but the text has no named variables");
  }
}

function checkBody(component: Json, path: string, s: Scope): void {
  const text = component.text;
  if (!isNonEmptyString(text)) {
    s.out.add("BODY_TEXT_REQUIRED", `${path}.text`, "the body needs text");
    return;
  }
  const tpath = `${path}.text`;
  if (chars(text) > LIMITS.bodyLength) s.out.add("BODY_TOO_LONG", tpath, `the body is longer than ${LIMITS.bodyLength} characters`);
  const found = textPlaceholders(text, tpath, s);
  if (found.length > 0) {
    const first = found[0];
    const last = found[found.length - 1];
    const before = text.slice(0, first.start);
    const after = text.slice(last.end);
    if (before.trim() === "") s.out.add("PLACEHOLDER_AT_START", tpath, "the body may not start with a variable: put words before it");
    else if (!WORDISH.test(before)) s.out.add("PLACEHOLDER_AT_EDGE_PUNCTUATION", tpath, "only punctuation comes before the first variable");
    if (after.trim() === "") s.out.add("PLACEHOLDER_AT_END", tpath, "the body may not end with a variable: put words after it");
    else if (!WORDISH.test(after)) s.out.add("PLACEHOLDER_AT_EDGE_PUNCTUATION", tpath, "only punctuation comes after the last variable");
    for (let i = 1; i < found.length; i++) {
      const gap = text.slice(found[i - 1].end, found[i].start);
      const pair = `${text.slice(found[i - 1].start, found[i - 1].end)} and ${text.slice(found[i].start, found[i].end)}`;
      if (gap.trim() === "") s.out.add("PLACEHOLDER_ADJACENT", tpath, `${pair} are next to each other: put words between them`);
      else if (!WORDISH.test(gap)) s.out.add("PLACEHOLDER_ADJACENT_PUNCTUATION", tpath, `only punctuation separates ${pair}`);
    }
    const words = fixedWords(text);
    if (words < 3 * found.length + 1) {
      s.out.add("PLACEHOLDER_RATIO", tpath, `${found.length} variable(s) for ${words} fixed word(s): Meta rejects templates with too many variables for their length; aim for at least ${3 * found.length + 1} words`);
    }
  }
  checkExamples(component, path, found, s, "body");
}

function checkHeader(component: Json, path: string, s: Scope): void {
  const format = upper(component.format);
  if (!format || !HEADER_FORMATS.has(format)) {
    s.out.add("HEADER_FORMAT_INVALID", `${path}.format`, "header format must be TEXT, IMAGE, VIDEO, DOCUMENT, LOCATION or GIF");
    return;
  }
  if (format === "LOCATION" && s.category && s.category !== "UTILITY" && s.category !== "MARKETING") {
    s.out.add("HEADER_LOCATION_CATEGORY", `${path}.format`, "LOCATION headers are only for UTILITY and MARKETING templates");
  }
  if (format === "GIF" && s.category && s.category !== "MARKETING") {
    s.out.add("HEADER_GIF_CATEGORY", `${path}.format`, "GIF headers are only for MARKETING templates");
  }
  if (MEDIA_FORMATS.has(format)) {
    const handles = isObject(component.example) ? component.example.header_handle : undefined;
    if (!Array.isArray(handles) || handles.length === 0 || !handles.every(isNonEmptyString)) {
      s.out.add("HEADER_MEDIA_EXAMPLE_REQUIRED", `${path}.example.header_handle`, `a ${format} header needs a sample: example.header_handle from the Resumable Upload API`);
    }
    return;
  }
  if (format !== "TEXT") return;
  const text = component.text;
  const tpath = `${path}.text`;
  if (!isNonEmptyString(text)) {
    s.out.add("HEADER_TEXT_REQUIRED", tpath, "a TEXT header needs text");
    return;
  }
  if (chars(text) > LIMITS.headerTextLength) s.out.add("HEADER_TEXT_TOO_LONG", tpath, `header text is longer than ${LIMITS.headerTextLength} characters`);
  if (/[*~`]/.test(text.replace(TOKEN, ""))) s.out.add("HEADER_FORMATTING", tpath, "header text may not use formatting characters (* ~ `)");
  if (EMOJI.test(text)) s.out.add("HEADER_EMOJI", tpath, "emojis in the header may be refused");
  const found = textPlaceholders(text, tpath, s);
  if (found.length > 1) s.out.add("HEADER_TOO_MANY_VARIABLES", tpath, "a header has at most one variable");
  checkExamples(component, path, found, s, "header");
}

function checkFooter(component: Json, path: string, s: Scope): void {
  const text = component.text;
  const tpath = `${path}.text`;
  if (!isNonEmptyString(text)) {
    s.out.add("FOOTER_TEXT_REQUIRED", tpath, "the footer needs text");
    return;
  }
  if (chars(text) > LIMITS.footerLength) s.out.add("FOOTER_TOO_LONG", tpath, `the footer is longer than ${LIMITS.footerLength} characters`);
  const bad: Issue[] = [];
  const found = scanPlaceholders(text, (rule, message) => bad.push({ rule, path: tpath, message }));
  for (const b of bad) s.out.add(b.rule, b.path, b.message);
  if (found.length > 0) s.out.add("FOOTER_VARIABLE", tpath, "keep the footer free of variables");
}

function buttonList(component: Json, path: string, s: Scope): unknown[] | null {
  const buttons = component.buttons;
  if (!Array.isArray(buttons) || buttons.length === 0) {
    s.out.add("BUTTONS_EMPTY", `${path}.buttons`, "a BUTTONS component needs at least one button");
    return null;
  }
  return buttons;
}

function checkLabel(button: Json, type: string, bpath: string, s: Scope): void {
  const text = button.text;
  if (text === undefined && !LABELLED_BUTTONS.has(type)) return;
  if (!isNonEmptyString(text)) {
    s.out.add("BUTTON_TEXT_REQUIRED", `${bpath}.text`, `a ${type} button needs a label`);
    return;
  }
  if (chars(text) > LIMITS.buttonText) s.out.add("BUTTON_TEXT_TOO_LONG", `${bpath}.text`, `button labels are at most ${LIMITS.buttonText} characters`);
  if (/\{\{.*?\}\}/.test(text)) s.out.add("BUTTON_TEXT_VARIABLE", `${bpath}.text`, "keep button labels free of variables");
}

function checkButtons(component: Json, path: string, s: Scope): void {
  const buttons = buttonList(component, path, s);
  if (!buttons) return;
  const bpathOf = (i: number) => `${path}.buttons[${i}]`;
  if (buttons.length > LIMITS.buttonsTotal) s.out.add("BUTTONS_TOO_MANY", `${path}.buttons`, `at most ${LIMITS.buttonsTotal} buttons`);
  const counts = new Map<string, number>();
  const kinds: boolean[] = [];
  buttons.forEach((button, i) => {
    const bpath = bpathOf(i);
    const type = isObject(button) ? upper(button.type) : null;
    if (!isObject(button) || !type || !BUTTON_TYPES.has(type)) {
      s.out.add("BUTTON_INVALID", bpath, "a button is an object with a type such as QUICK_REPLY, URL, PHONE_NUMBER or COPY_CODE");
      return;
    }
    counts.set(type, (counts.get(type) ?? 0) + 1);
    kinds.push(type === "QUICK_REPLY");
    if (type === "OTP") {
      s.out.add("BUTTON_OTP_CATEGORY", `${bpath}.type`, "OTP buttons are only for AUTHENTICATION templates");
      return;
    }
    checkLabel(button, type, bpath, s);
    if (type === "URL") checkUrlButton(button, bpath, s);
    else if (type === "PHONE_NUMBER") {
      const phone = button.phone_number;
      if (!isNonEmptyString(phone) || chars(phone) > LIMITS.phoneLength) {
        s.out.add("BUTTON_PHONE_INVALID", `${bpath}.phone_number`, `a phone button needs a phone_number of at most ${LIMITS.phoneLength} characters`);
      }
    } else if (type === "COPY_CODE") {
      const example = button.example;
      if (!isNonEmptyString(example) || chars(example) > LIMITS.copyCodeExample) {
        s.out.add("BUTTON_COPY_CODE_EXAMPLE", `${bpath}.example`, `a copy-code button needs an example code of at most ${LIMITS.copyCodeExample} characters`);
      } else if (chars(example) > LIMITS.copyCodeExampleSafe) {
        s.out.add("BUTTON_COPY_CODE_EXAMPLE_LENGTH", `${bpath}.example`, `copy-code examples longer than ${LIMITS.copyCodeExampleSafe} characters may be refused`);
      }
      if (s.category === "UTILITY") s.out.add("BUTTON_COPY_CODE_UTILITY", `${bpath}.type`, "some providers refuse COPY_CODE in UTILITY templates");
    }
  });
  const over = (type: string, max: number) => (counts.get(type) ?? 0) > max;
  if (over("URL", LIMITS.urlButtons)) s.out.add("BUTTON_URL_LIMIT", `${path}.buttons`, `at most ${LIMITS.urlButtons} URL buttons`);
  if (over("PHONE_NUMBER", LIMITS.phoneButtons)) s.out.add("BUTTON_PHONE_LIMIT", `${path}.buttons`, "at most one PHONE_NUMBER button");
  if (over("COPY_CODE", LIMITS.copyCodeButtons)) s.out.add("BUTTON_COPY_CODE_LIMIT", `${path}.buttons`, "at most one COPY_CODE button");
  let switches = 0;
  for (let i = 1; i < kinds.length; i++) if (kinds[i] !== kinds[i - 1]) switches++;
  if (switches > 1) {
    s.out.add("BUTTON_GROUPING", `${path}.buttons`, "quick replies must be together, before or after all other buttons (e.g. QR, QR, URL, not QR, URL, QR)");
  }
  const mixed = kinds.includes(true) && kinds.includes(false);
  if (buttons.length >= 4 || mixed) {
    s.out.add("BUTTONS_DESKTOP", `${path}.buttons`, "WhatsApp desktop cannot show templates with 4 or more buttons, or quick replies with other buttons");
  }
}

function checkUrlButton(button: Json, bpath: string, s: Scope): void {
  const url = button.url;
  const upath = `${bpath}.url`;
  if (!isNonEmptyString(url) || !/^https?:\/\/[^\s/]+\.[^\s]+$/i.test(url) || chars(url) > LIMITS.urlLength) {
    s.out.add("BUTTON_URL_INVALID", upath, `a URL button needs an http(s) url of at most ${LIMITS.urlLength} characters`);
    return;
  }
  const tokens = [...url.matchAll(/\{\{([^{}]*)\}\}/g)];
  if (tokens.length > 1 || (tokens.length === 1 && (tokens[0][1] !== "1" || tokens[0].index! + tokens[0][0].length !== url.length))) {
    s.out.add("BUTTON_URL_VARIABLE", upath, "a URL has at most one variable, {{1}}, at its very end");
  } else if (tokens.length === 0 && (url.includes("{{") || url.includes("}}"))) {
    s.out.add("PLACEHOLDER_MALFORMED", upath, "mismatched curly braces: a variable is written {{1}}");
  }
  if (tokens.length >= 1) {
    const example = button.example;
    // Meta's shape is an array holding the one example: ["summer2023"].
    if (!Array.isArray(example) || example.length !== 1 || !isNonEmptyString(example[0])) {
      s.out.add("BUTTON_URL_EXAMPLE_REQUIRED", `${bpath}.example`, "a URL with a variable needs an example as an array, e.g. [\"summer2023\"]");
    }
  }
  try {
    const host = new URL(url.replace(/\{\{[^{}]*\}\}/g, "x")).hostname.toLowerCase().replace(/^www\./, "");
    if (SHORTENERS.has(host)) s.out.add("BUTTON_URL_SHORTENER", upath, `${host} is a link shortener; use the business's own domain`);
  } catch {
    // Already reported as BUTTON_URL_INVALID by the pattern above if it matters.
  }
}

// ---------------------------------------------------------------------------------------------
// AUTHENTICATION: preset text, an expiry, one OTP button. URLs, media and emojis are not supported.
// ---------------------------------------------------------------------------------------------

function checkAuthComponent(type: string, component: Json, path: string, s: Scope): void {
  if (type === "HEADER") {
    if (upper(component.format) === "LOCATION") {
      s.out.add("HEADER_LOCATION_CATEGORY", `${path}.format`, "LOCATION headers are only for UTILITY and MARKETING templates");
    } else s.out.add("AUTH_HEADER_NOT_ALLOWED", path, "AUTHENTICATION templates have no header");
    return;
  }
  if (type === "BODY") {
    if (component.text !== undefined) s.out.add("AUTH_CUSTOM_TEXT", `${path}.text`, "AUTHENTICATION bodies are Meta's preset text: remove text");
    const rec = component.add_security_recommendation;
    if (rec !== undefined && typeof rec !== "boolean") {
      s.out.add("AUTH_SECURITY_RECOMMENDATION", `${path}.add_security_recommendation`, "add_security_recommendation is true or false");
    }
    return;
  }
  if (type === "FOOTER") {
    if (component.text !== undefined) s.out.add("AUTH_CUSTOM_TEXT", `${path}.text`, "AUTHENTICATION footers are Meta's preset text: remove text");
    const minutes = component.code_expiration_minutes;
    if (minutes !== undefined && (typeof minutes !== "number" || !Number.isInteger(minutes) || minutes < LIMITS.expiryMin || minutes > LIMITS.expiryMax)) {
      s.out.add("AUTH_EXPIRY_RANGE", `${path}.code_expiration_minutes`, `code_expiration_minutes is a whole number from ${LIMITS.expiryMin} to ${LIMITS.expiryMax}`);
    }
    return;
  }
  const buttons = buttonList(component, path, s);
  if (!buttons) return;
  if (buttons.length > 1) s.out.add("AUTH_BUTTON_TYPE", `${path}.buttons`, "AUTHENTICATION templates have a single OTP button");
  buttons.forEach((button, i) => {
    const bpath = `${path}.buttons[${i}]`;
    if (!isObject(button) || upper(button.type) !== "OTP") {
      s.out.add("AUTH_BUTTON_TYPE", `${bpath}.type`, "AUTHENTICATION buttons are of type OTP");
      return;
    }
    const otp = upper(button.otp_type);
    if (!otp || !OTP_TYPES.has(otp)) {
      s.out.add("AUTH_BUTTON_TYPE", `${bpath}.otp_type`, "otp_type is COPY_CODE, ONE_TAP or ZERO_TAP");
      return;
    }
    for (const field of ["text", "autofill_text"] as const) {
      const value = button[field];
      if (value === undefined) continue;
      if (!isNonEmptyString(value) || chars(value) > LIMITS.buttonText) {
        s.out.add("BUTTON_TEXT_TOO_LONG", `${bpath}.${field}`, `${field} is 1 to ${LIMITS.buttonText} characters`);
      } else if (EMOJI.test(value) || URL_IN_TEXT.test(value)) {
        s.out.add("AUTH_URL_OR_EMOJI", `${bpath}.${field}`, "AUTHENTICATION templates may not contain URLs or emojis");
      }
    }
    if (otp === "ONE_TAP" || otp === "ZERO_TAP") {
      const apps = button.supported_apps;
      const ok = Array.isArray(apps) && apps.length >= 1 && apps.length <= LIMITS.supportedAppsMax &&
        apps.every((a) =>
          isObject(a) && isNonEmptyString(a.package_name) && /^[A-Za-z][A-Za-z0-9_]*(\.[A-Za-z][A-Za-z0-9_]*)+$/.test(a.package_name) &&
          typeof a.signature_hash === "string" && /^[A-Za-z0-9+/]{11}$/.test(a.signature_hash)
        );
      if (!ok) {
        s.out.add("AUTH_SUPPORTED_APPS", `${bpath}.supported_apps`, `${otp} needs 1 to ${LIMITS.supportedAppsMax} supported_apps, each with a package_name and an 11-character signature_hash`);
      }
    }
    if (otp === "ZERO_TAP" && button.zero_tap_terms_accepted !== true) {
      s.out.add("AUTH_ZERO_TAP_TERMS", `${bpath}.zero_tap_terms_accepted`, "ZERO_TAP templates are only created with zero_tap_terms_accepted: true");
    }
  });
}
