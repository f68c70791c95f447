// What the builder says, made from the state it is in, so a reply can never contradict the state:
// gathering asks for the first missing field (after saying why, when Meta would reject what is
// there), review shows the template and asks for confirmation, final says the payload is ready.
import type { Assessment, Draft, Field } from "./draft.ts";
import type { Memory } from "./guided.ts";

const OPTIONAL: Field[] = ["wants_header", "header", "wants_footer", "footer", "wants_buttons", "buttons"];

export function questionFor(field: Field, draft: Draft, memory: Memory): string {
  switch (field) {
    case "category":
    case "language": {
      const parts: string[] = [];
      if (!draft.category) {
        const s = typeof memory.suggested_category === "string" ? ` It sounds like ${memory.suggested_category}: reply "yes" with the language to accept.` : "";
        parts.push(`Which category is it: UTILITY (reminders and updates the customer expects), MARKETING (offers, news) or AUTHENTICATION (one-time passcodes)?${s}`);
      }
      if (!draft.language) parts.push("Which language is it written in (a code such as en_US, es or pt_BR)?");
      return parts.join(" ");
    }
    case "name": {
      const s = typeof memory.suggested_name === "string" ? ` Reply "yes" to use ${memory.suggested_name}.` : "";
      return `What should the template be called? Lowercase letters, digits and underscores, e.g. appointment_reminder.${s}`;
    }
    case "body":
      return "Write the message body. Put {{1}}, {{2}}, ... (or names such as {{customer_name}}) where the customer's details go, with words before the first and after the last.";
    case "body_examples": {
      const labels = Array.isArray(memory.variable_labels) ? memory.variable_labels as string[] : [];
      const n = countVars(draft.body);
      const list = Array.from({ length: n }, (_, i) => `{{${i + 1}}}${labels[i] ? ` (${labels[i]})` : ""}`).join(" | ");
      return `Give an example value for each variable, separated by |: ${list}`;
    }
    case "header_example":
      return "Give an example value for the header's variable.";
    default: {
      const open: string[] = [];
      if (draft.wants_header === null || (draft.wants_header && !draft.header)) open.push("a header (text up to 60 characters, or \"location\")");
      if (draft.wants_footer === null || (draft.wants_footer && !draft.footer)) open.push("a footer (up to 60 characters, no variables)");
      if (draft.wants_buttons === null || (draft.wants_buttons && draft.buttons.length === 0)) open.push("buttons (e.g. \"quick reply Reschedule\", \"url Book https://example.com/book\", \"call Call us +14165550100\")");
      const b = memory.suggested_button as { text?: string } | null | undefined;
      const s = b?.text && draft.wants_buttons === null ? ` Reply "yes" for a quick reply "${b.text}" and nothing else.` : "";
      return `Would you like ${open.join(", ")}? Answer with lines such as "footer: ..." and "buttons: ...", or "no".${s}`;
    }
  }
}

function countVars(text: string | null): number {
  return new Set([...(text ?? "").matchAll(/\{\{([0-9]+)\}\}/g)].map((m) => m[1])).size;
}

/** The template as a person would see it, one part per line. */
export function preview(payload: Record<string, unknown>): string {
  const components = Array.isArray(payload.components) ? payload.components as Record<string, unknown>[] : [];
  const lines = [`${payload.name} (${payload.category}, ${payload.language})`];
  for (const c of components) {
    const type = String(c.type).toUpperCase();
    if (type === "HEADER") lines.push(`Header: ${c.format === "TEXT" ? c.text : String(c.format).toLowerCase()}`);
    else if (type === "BODY") lines.push(`Body: ${c.text ?? "(Meta's verification-code text)"}`);
    else if (type === "FOOTER") lines.push(`Footer: ${c.text ?? `code expires in ${c.code_expiration_minutes} minutes`}`);
    else if (type === "BUTTONS") {
      const buttons = (c.buttons as Record<string, unknown>[]).map((b) => `[${b.text ?? b.example ?? b.type}]`);
      lines.push(`Buttons: ${buttons.join(" ")}`);
    }
  }
  return lines.join("\n");
}

export function composeReply(a: Assessment, draft: Draft, memory: Memory, notes: string[] = []): string {
  const parts = [...notes];
  if (a.state === "gathering") {
    if (a.validation.errors.length > 0) {
      parts.push(`Meta would reject this: ${a.validation.errors.slice(0, 3).map((e) => e.message).join("; ")}.`);
    }
    const field = a.missing[0];
    const q = OPTIONAL.includes(field) ? questionFor("wants_buttons", draft, memory) : questionFor(field, draft, memory);
    parts.push(q);
  } else if (a.state === "review") {
    parts.push(`Here is your template:\n${preview(a.payload)}`);
    if (a.validation.warnings.length > 0) {
      parts.push(`Worth knowing: ${a.validation.warnings.slice(0, 3).map((w) => w.message).join("; ")}.`);
    }
    parts.push('Reply "confirm" to make it final, or change a part with a line such as "footer: Thank you".');
  } else {
    parts.push("Your template is final: the creation payload for Meta is in `payload`. Send it for review with POST session/{id}/submit.");
  }
  return parts.join("\n\n");
}
