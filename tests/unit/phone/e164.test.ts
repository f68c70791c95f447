import { describe, expect, it } from "vitest";
import { toE164 } from "../../../functions/_shared/phone/e164.ts";

describe("toE164", () => {
  it.each([
    ["+1 (416) 555-0199", "CA"],
    ["416.555.0199", "CA"],
    ["14165550199", "CA"],
    ["1-416-555-0199", "US"],
    ["+14165550199", "GB"],
  ])("reads %s (%s) as +14165550199", (raw, country) => {
    expect(toE164(raw, country)).toBe("+14165550199");
  });

  it("reads national forms with the default country's rules", () => {
    expect(toE164("07911 123456", "GB")).toBe("+447911123456");
    expect(toE164("098765 43210", "IN")).toBe("+919876543210");
    expect(toE164("011 44 20 7946 0958", "US")).toBe("+442079460958");
  });

  it.each(["anonymous", "Restricted", "sip:alice@example.com", "sip:+14165550199@sip.telnyx.com", "", "5550199", "12"])(
    "gives null for %j, which is not a callable number",
    (raw) => {
      expect(toE164(raw, "CA")).toBeNull();
    },
  );
});
