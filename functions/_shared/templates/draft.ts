// The builder's draft: what the conversation fills in (by the guided questions or by the model's
// structured output), the Meta creation payload made from it, what is still missing, and the state
// that follows. The zod schema doubles as the model's output schema, so every field is present and
// nullable (OpenAI's strict structured outputs require it).
import { z } from "zod";
import { scanPlaceholders, type Category, CATEGORIES, type Issue, type ValidationResult, validateTemplate } from "./validator.ts";

export const BUTTON_TYPES = ["QUICK_REPLY", "URL", "PHONE_NUMBER", "COPY_CODE"] as const;
export const HEADER_FORMATS = ["TEXT", "IMAGE", "VIDEO", "DOCUMENT", "LOCATION"] as const;

export const DraftButtonSchema = z.object({
  type: z.enum(BUTTON_TYPES),
  /** Label (QUICK_REPLY, URL, PHONE_NUMBER). */
  text: z.string().nullable(),
  url: z.string().nullable(),
  /** Example for a URL ending in {{1}}, or the example code of a COPY_CODE button. */
  example: z.string().nullable(),
  phone_number: z.string().nullable(),
});

export const DraftHeaderSchema = z.object({
  format: z.enum(HEADER_FORMATS),
  text: z.string().nullable(),
  /** Example for the one variable a TEXT header may have. */
  example: z.string().nullable(),
  /** Upload handle of the media sample (IMAGE, VIDEO, DOCUMENT). */
  media_handle: z.string().nullable(),
});

export const DraftSchema = z.object({
  name: z.string().nullable(),
  category: z.enum(CATEGORIES).nullable(),
  language: z.string().nullable(),
  /** What the business does, when said (memory; helps the model's wording). */
  business_type: z.string().nullable(),
  /** Positional placeholders {{1}}..{{n}}. */
  body: z.string().nullable(),
  /** One example per body variable, in order. */
  body_examples: z.array(z.string()),
  wants_header: z.boolean().nullable(),
  header: DraftHeaderSchema.nullable(),
  wants_footer: z.boolean().nullable(),
  footer: z.string().nullable(),
  wants_buttons: z.boolean().nullable(),
  buttons: z.array(DraftButtonSchema),
  /** AUTHENTICATION only: minutes until the code expires (1-90) and the security sentence. */
  code_expiration_minutes: z.number().int().nullable(),
  add_security_recommendation: z.boolean().nullable(),
});

export type Draft = z.infer<typeof DraftSchema>;
export type DraftButton = z.infer<typeof DraftButtonSchema>;
export type DraftHeader = z.infer<typeof DraftHeaderSchema>;
export type BuilderState = "gathering" | "review" | "final";

/** The field names `missing` reports, in the order the builder asks for them. */
export const FIELDS = [
  "category", "language", "name", "body", "body_examples",
  "wants_header", "header", "header_example", "wants_footer", "footer", "wants_buttons", "buttons",
] as const;
export type Field = (typeof FIELDS)[number];

export function emptyDraft(): Draft {
  return {
    name: null, category: null, language: null, business_type: null, body: null, body_examples: [],
    wants_header: null, header: null, wants_footer: null, footer: null, wants_buttons: null, buttons: [],
    code_expiration_minutes: null, add_security_recommendation: null,
  };
}

/** A draft read back from storage or from the model, made whole (unknown keys dropped). */
export function normaliseDraft(value: unknown): Draft {
  const parsed = DraftSchema.safeParse({ ...emptyDraft(), ...(typeof value === "object" && value ? value : {}) });
  return parsed.success ? parsed.data : emptyDraft();
}

/** Distinct positional variables of a text ({{1}}, {{2}}, ...). */
export function variableCount(text: string | null): number {
  if (!text) return 0;
  return new Set(scanPlaceholders(text).map((p) => p.key)).size;
}

/** The Meta creation payload for a draft, as complete as the draft is. */
export function toCreationPayload(draft: Draft): Record<string, unknown> {
  const components: Record<string, unknown>[] = [];
  if (draft.category === "AUTHENTICATION") {
    components.push({ type: "BODY", add_security_recommendation: draft.add_security_recommendation ?? true });
    if (draft.code_expiration_minutes !== null) components.push({ type: "FOOTER", code_expiration_minutes: draft.code_expiration_minutes });
    components.push({ type: "BUTTONS", buttons: [{ type: "OTP", otp_type: "COPY_CODE", text: "Copy code" }] });
  } else {
    const h = draft.wants_header ? draft.header : null;
    if (h) {
      if (h.format === "TEXT") {
        const header: Record<string, unknown> = { type: "HEADER", format: "TEXT", text: h.text ?? "" };
        if (variableCount(h.text) > 0 && h.example) header.example = { header_text: [h.example] };
        components.push(header);
      } else if (h.format === "LOCATION") components.push({ type: "HEADER", format: "LOCATION" });
      else components.push({ type: "HEADER", format: h.format, ...(h.media_handle ? { example: { header_handle: [h.media_handle] } } : {}) });
    }
    const body: Record<string, unknown> = { type: "BODY", text: draft.body ?? "" };
    if (variableCount(draft.body) > 0 && draft.body_examples.length > 0) body.example = { body_text: [draft.body_examples] };
    components.push(body);
    if (draft.wants_footer && draft.footer) components.push({ type: "FOOTER", text: draft.footer });
    if (draft.wants_buttons && draft.buttons.length > 0) {
      components.push({ type: "BUTTONS", buttons: draft.buttons.map(toMetaButton) });
    }
  }
  return {
    name: draft.name ?? "",
    language: draft.language ?? "",
    category: draft.category ?? "",
    components,
  };
}

function toMetaButton(b: DraftButton): Record<string, unknown> {
  switch (b.type) {
    case "QUICK_REPLY":
      return { type: "QUICK_REPLY", text: b.text ?? "" };
    case "URL":
      return { type: "URL", text: b.text ?? "", url: b.url ?? "", ...(b.url?.includes("{{") && b.example ? { example: [b.example] } : {}) };
    case "PHONE_NUMBER":
      return { type: "PHONE_NUMBER", text: b.text ?? "", phone_number: b.phone_number ?? "" };
    case "COPY_CODE":
      return { type: "COPY_CODE", example: b.example ?? "" };
  }
}

/** What the draft still lacks, as field names in asking order. */
export function missingFields(draft: Draft): Field[] {
  const missing: Field[] = [];
  if (!draft.category) missing.push("category");
  if (!draft.language) missing.push("language");
  if (!draft.name) missing.push("name");
  if (draft.category === "AUTHENTICATION") return missing;
  if (!draft.body?.trim()) missing.push("body");
  else if (variableCount(draft.body) > 0 && draft.body_examples.length !== variableCount(draft.body)) missing.push("body_examples");
  if (draft.wants_header === null) missing.push("wants_header");
  else if (draft.wants_header) {
    if (!draft.header) missing.push("header");
    else if (draft.header.format === "TEXT" && variableCount(draft.header.text) > 0 && !draft.header.example) missing.push("header_example");
  }
  if (draft.wants_footer === null) missing.push("wants_footer");
  else if (draft.wants_footer && !draft.footer?.trim()) missing.push("footer");
  if (draft.wants_buttons === null) missing.push("wants_buttons");
  else if (draft.wants_buttons && draft.buttons.length === 0) missing.push("buttons");
  return missing;
}

/** The draft fields a validator error points at (so `missing` tells the truth after a rejection). */
export function fieldsOfIssues(issues: Issue[], payload: Record<string, unknown>): Field[] {
  const components = Array.isArray(payload.components) ? payload.components as Record<string, unknown>[] : [];
  const out = new Set<Field>();
  for (const issue of issues) {
    const top = /^([a-z_]+)/.exec(issue.path)?.[1];
    if (top === "name" || top === "language" || top === "category") out.add(top);
    const m = /^components\[(\d+)\](.*)$/.exec(issue.path);
    if (!m) continue;
    const type = String(components[Number(m[1])]?.type ?? "").toUpperCase();
    if (type === "HEADER") out.add(m[2].includes("example") ? "header_example" : "header");
    else if (type === "BODY") out.add(m[2].includes("example") || issue.rule.startsWith("EXAMPLE_") ? "body_examples" : "body");
    else if (type === "FOOTER") out.add("footer");
    else if (type === "BUTTONS") out.add("buttons");
  }
  return FIELDS.filter((f) => out.has(f));
}

export interface Assessment {
  state: BuilderState;
  missing: Field[];
  payload: Record<string, unknown>;
  validation: ValidationResult;
}

/**
 * The state a draft is in: gathering while fields are missing or Meta would reject it (the fields
 * the errors point at are reported as missing), review when complete and valid, final once the
 * user confirmed a complete, valid draft.
 */
export function assess(draft: Draft, confirmed: boolean): Assessment {
  const payload = toCreationPayload(draft);
  const validation = validateTemplate(payload);
  const missing = missingFields(draft);
  if (missing.length > 0) {
    // Only errors in what is already filled in count; an empty field is reported as missing.
    const filledErrors = validation.errors.filter((e) => !fieldsOfIssues([e], payload).some((f) => missing.includes(f)));
    return { state: "gathering", missing, payload, validation: { ...validation, errors: filledErrors, valid: false } };
  }
  if (!validation.valid) {
    const fields = fieldsOfIssues(validation.errors, payload);
    return { state: "gathering", missing: fields.length ? fields : ["body"], payload, validation };
  }
  return { state: confirmed ? "final" : "review", missing: [], payload, validation };
}

export function isCategory(value: unknown): value is Category {
  return typeof value === "string" && (CATEGORIES as readonly string[]).includes(value);
}
