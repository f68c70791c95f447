// The guided flow's readers and the state machine, in process: what a message sets, what is asked
// next, and that the reply always matches the state.
import { describe, expect, it } from "vitest";
import { guidedConversationTurn, type SessionSnapshot } from "../../../functions/_shared/templates/conversation.ts";
import { assess, emptyDraft, missingFields, toCreationPayload } from "../../../functions/_shared/templates/draft.ts";
import { parseButton, parseButtons, parseLanguage, suggestCategory, suggestName, toPositional } from "../../../functions/_shared/templates/guided.ts";
import { validateTemplate } from "../../../functions/_shared/templates/validator.ts";

const start = (): SessionSnapshot => ({ state: "gathering", draft: emptyDraft(), memory: {} });
function run(messages: string[]) {
  let s = start();
  const out = [];
  for (const m of messages) {
    const r = guidedConversationTurn(s, m);
    out.push(r);
    s = { state: r.state, draft: r.draft, memory: r.memory };
  }
  return out;
}

describe("guided readers", () => {
  it("reads quick replies, URLs, phone numbers and copy codes", () => {
    expect(parseButton("quick reply Reschedule")).toMatchObject({ type: "QUICK_REPLY", text: "Reschedule" });
    expect(parseButton("url Book https://example.com/book")).toMatchObject({ type: "URL", text: "Book", url: "https://example.com/book" });
    expect(parseButton("call Call us +1 416 555 0100")).toMatchObject({ type: "PHONE_NUMBER", text: "Call us", phone_number: "+14165550100" });
    expect(parseButton("copy code SAVE10")).toMatchObject({ type: "COPY_CODE", example: "SAVE10" });
    expect(parseButtons("quick reply Yes; quick reply No")).toHaveLength(2);
  });

  it("reads language codes and names, and corrects a hyphen", () => {
    expect(parseLanguage("en_US")).toBe("en_US");
    expect(parseLanguage("en-US")).toBe("en_US");
    expect(parseLanguage("in Spanish please")).toBe("es");
    expect(parseLanguage("fil")).toBe("fil");
    expect(parseLanguage("klingon")).toBeNull();
  });

  it("numbers named variables in order of first appearance", () => {
    expect(toPositional("Hi {{name}}, at {{time}}, bye {{name}}.")).toEqual({ text: "Hi {{1}}, at {{2}}, bye {{1}}.", labels: ["name", "time"] });
  });

  it("suggests a category and a name from a description, never sets them", () => {
    expect(suggestCategory("a reminder for tomorrow's appointment")).toBe("UTILITY");
    expect(suggestCategory("our spring sale")).toBe("MARKETING");
    expect(suggestCategory("a login code")).toBe("AUTHENTICATION");
    expect(suggestName("A reminder for tomorrow's appointment with the customer's name")).toBe("appointment_reminder");
  });
});

describe("guided flow", () => {
  it("asks for category and language first, after remembering a description", () => {
    const [r] = run(["A reminder for tomorrow's appointment with a button to reschedule"]);
    expect(r.state).toBe("gathering");
    expect(r.draft.category).toBeNull();
    expect(r.memory).toMatchObject({ suggested_category: "UTILITY", suggested_name: "appointment_reminder", pending: ["category"] });
    expect(r.reply).toMatch(/Which category/);
  });

  it("remembers the business type a description mentions", () => {
    const [r] = run(["We run a dental clinic and need appointment reminders"]);
    expect(r.memory.business_type).toBe("dental clinic");
  });

  it("says what it did not understand and asks again", () => {
    const [, r] = run(["something", "banana"]);
    expect(r.reply).toMatch(/did not catch that/);
    expect(r.missing[0]).toBe("category");
  });

  it("asks for examples of every variable, by label", () => {
    const out = run(["category: utility\nlanguage: en_US\nname: x_reminder\nbody: Hi {{customer}}, see you at {{time}} in our office today."]);
    expect(out[0].missing[0]).toBe("body_examples");
    expect(out[0].reply).toMatch(/\{\{1\}\} \(customer\) \| \{\{2\}\} \(time\)/);
  });

  it("builds an AUTHENTICATION template from category, language and name alone", () => {
    const [r] = run(["category: authentication\nlanguage: en_US\nname: login_code\nexpiry: 10"]);
    expect(r.state).toBe("review");
    expect(r.payload.components).toEqual([
      { type: "BODY", add_security_recommendation: true },
      { type: "FOOTER", code_expiration_minutes: 10 },
      { type: "BUTTONS", buttons: [{ type: "OTP", otp_type: "COPY_CODE", text: "Copy code" }] },
    ]);
  });

  it("goes back to review when a final template is edited, and stays final otherwise", () => {
    const base = "category: utility\nlanguage: en_US\nname: x_update\nbody: Your order has shipped and arrives on Friday at your door.\nbuttons: no";
    const out = run([base, "confirm", "what now?", "footer: Thanks for shopping with us"]);
    expect(out.map((r) => r.state)).toEqual(["review", "final", "final", "review"]);
  });

  it("never replies as final or review while fields are missing or the draft is invalid", () => {
    const sequences = [
      ["hello", "utility, en_US", "yes", "{{1}} hi", "Ann", "no", "confirm"],
      ["category: marketing\nlanguage: xx", "confirm"],
      ["category: utility\nlanguage: en_US\nname: a\nbody: Hi {{1}} {{2}} there, how are you doing today?\nexamples: a | b\nbuttons: no", "confirm"],
    ];
    for (const seq of sequences) {
      for (const r of run(seq)) {
        const complete = missingFields(r.draft).length === 0 && validateTemplate(toCreationPayload(r.draft)).valid;
        if (!complete) expect(r.state).toBe("gathering");
        expect(/Reply "confirm"/.test(r.reply)).toBe(r.state === "review");
        expect(/is final/.test(r.reply)).toBe(r.state === "final");
      }
    }
  });
});

describe("assess", () => {
  it("reports the fields a validator error points at as missing", () => {
    const draft = { ...emptyDraft(), category: "UTILITY" as const, language: "en_US", name: "x", body: "Hello {{1}}", body_examples: ["Ann"], wants_header: false, wants_footer: false, wants_buttons: false };
    const a = assess(draft, true);
    expect(a.state).toBe("gathering");
    expect(a.missing).toEqual(["body"]);
  });
});
