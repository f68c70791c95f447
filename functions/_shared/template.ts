// `{{name}}` placeholders, rendered on our side: Telnyx does not expand placeholders inside the values
// we return, so a greeting must leave here finished. Unknown placeholders become empty text; no
// `{{...}}` survives.

const PLACEHOLDER = /\{\{\s*([^{}]*?)\s*\}\}/g;

export function renderTemplate(text: string, variables: Record<string, string>): string {
  const rendered = text.replace(PLACEHOLDER, (_, name: string) => variables[name] ?? "");
  // A stray "{{" or "}}" left by a malformed template is removed too.
  // Empty values leave "Hi , thanks" or doubled spaces behind; tidy them.
  return rendered
    .replace(/\{\{|\}\}/g, "")
    .replace(/[ \t]+([,.!?;:])/g, "$1")
    .replace(/[ \t]{2,}/g, " ")
    .trim();
}
