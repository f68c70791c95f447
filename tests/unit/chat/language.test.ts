// The rule-based brain's intents are data: phrases per language, with phrases that cancel an intent.
import { describe, expect, it } from "vitest";
import { languagePack, LANGUAGES } from "../../../functions/_shared/chat/brain/language.ts";
import { detectIntent, isSmallTalk } from "../../../functions/_shared/chat/brain/rules.ts";
import { callbackSubject } from "../../../functions/_shared/chat/callback/describe.ts";
import { findPhoneInText } from "../../../functions/_shared/chat/callback/phone.ts";

const en = languagePack("en");

describe("detectIntent", () => {
  it.each([
    ["can you connect me to someone", "handoff"],
    ["I want to talk to a human please", "handoff"],
    ["Please call me back tomorrow", "callback"],
    ["that fixed it, thanks", "resolved"],
    ["Issue is resolved!", "resolved"],
    ["end chat", "end_chat"],
    ["Hi", "greeting"],
    ["thank you", "thanks"],
    ["never mind", "cancel"],
  ])("reads %j as %s", (text, intent) => {
    expect(detectIntent(text, en)?.intent).toBe(intent);
  });

  it.each(["the issue is not resolved", "it still doesn't work, not fixed", "hi, my furnace is broken and leaking water"])(
    "does not read %j as a resolution or a greeting",
    (text) => {
      expect(["resolved", "greeting"]).not.toContain(detectIntent(text, en)?.intent);
    },
  );

  it("reads French with the French pack, accents or not", () => {
    const fr = languagePack("fr");
    expect(detectIntent("Je veux parler à quelqu'un", fr)?.intent).toBe("handoff");
    expect(detectIntent("probleme resolu merci", fr)?.intent).toBe("resolved");
  });

  it("falls back to English for an unknown language", () => {
    expect(languagePack("xx")).toBe(LANGUAGES.en);
  });
});

describe("callback subjects", () => {
  const party = { name: "Jane", phone: "+14165550199", channel: "web" };
  const small = (t: string) => isSmallTalk(t, en);

  it("uses the customer's actual issue, skipping greetings, times and numbers", () => {
    expect(callbackSubject(null, ["hi", "my furnace is banging", "tomorrow at 2pm 4165550199"], party, small))
      .toBe("Callback: my furnace is banging");
  });

  it("never says None: an empty or placeholder issue falls back to who asked", () => {
    expect(callbackSubject("None", ["hi", "call me back"], party, small)).toBe("Callback: request from Jane");
    expect(callbackSubject("test - None", [], { ...party, name: null }, small)).toBe("Callback: request from +14165550199");
  });
});

describe("findPhoneInText", () => {
  it("reads national numbers in the country of the customer's own number", () => {
    expect(findPhoneInText("call 07911 123456", { channelPhone: "+447911000999", defaultCountry: "CA" })).toBe("+447911123456");
    expect(findPhoneInText("call 416-555-0199", { channelPhone: null, defaultCountry: "CA" })).toBe("+14165550199");
  });

  it("finds nothing in text without a valid number, and never throws", () => {
    for (const text of ["12345", "tomorrow at 2pm", "", "+++", "9".repeat(5000)]) {
      expect(findPhoneInText(text, { channelPhone: null, defaultCountry: "CA" })).toBeNull();
    }
    expect(findPhoneInText("416 555 0199", { channelPhone: null, defaultCountry: "ZZ" })).toBeNull();
  });
});
