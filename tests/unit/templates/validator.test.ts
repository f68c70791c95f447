// The validator against the corpus: every case returns exactly the error codes it names, and the
// warnings it names; every rule in the catalogue is exercised by some case.
import { describe, expect, it } from "vitest";
import { RULE_CODES, RULES } from "../../../functions/_shared/templates/rules.ts";
import { scanPlaceholders, validateTemplate } from "../../../functions/_shared/templates/validator.ts";
import { CORPUS } from "./corpus.ts";

describe("template validator corpus", () => {
  it("has at least 60 cases, Meta's examples among them", () => {
    expect(CORPUS.length).toBeGreaterThanOrEqual(60);
    expect(CORPUS.filter((c) => c.meta).length).toBeGreaterThanOrEqual(5);
    expect(new Set(CORPUS.map((c) => c.name)).size).toBe(CORPUS.length);
  });

  for (const c of CORPUS) {
    const label = c.errors.length ? `reports ${c.errors.join(" + ")} for ${c.name}` : `accepts ${c.name}`;
    it(label, () => {
      const result = validateTemplate(c.payload);
      expect([...new Set(result.errors.map((e) => e.rule))].sort()).toEqual([...c.errors].sort());
      expect(result.valid).toBe(c.errors.length === 0);
      for (const w of c.warnings ?? []) expect(result.warnings.map((x) => x.rule)).toContain(w);
      for (const issue of [...result.errors, ...result.warnings]) {
        expect(typeof issue.path).toBe("string");
        expect(issue.message.length).toBeGreaterThan(0);
      }
    });
  }

  it("exercises every rule of the catalogue", () => {
    const seen = new Set<string>();
    for (const c of CORPUS) {
      const r = validateTemplate(c.payload);
      for (const i of [...r.errors, ...r.warnings]) seen.add(i.rule);
    }
    expect(RULE_CODES.filter((code) => !seen.has(code))).toEqual([]);
  });

  it("reports unconfirmed rules as warnings that say so", () => {
    for (const code of RULE_CODES) {
      if (!RULES[code].confirmed) expect(RULES[code].severity).toBe("warning");
    }
    const r = validateTemplate(CORPUS.find((c) => c.name === "footer with a variable")!.payload);
    expect(r.warnings.find((w) => w.rule === "FOOTER_VARIABLE")!.message).toMatch(/unconfirmed/i);
  });

  it("points at the offending field", () => {
    const r = validateTemplate(CORPUS.find((c) => c.name === "URL variable in the middle")!.payload);
    expect(r.errors[0]).toMatchObject({ rule: "BUTTON_URL_VARIABLE", path: "components[1].buttons[0].url" });
  });

  it("never throws, whatever it is given", () => {
    for (const junk of [null, 1, "x", [], {}, { components: [null, 1, "x", { type: 5 }] }, { components: [{ type: "BODY", text: 5 }] },
      { category: "AUTHENTICATION", components: [{ type: "BUTTONS", buttons: [null, { type: "OTP", supported_apps: [null] }] }] }]) {
      expect(() => validateTemplate(junk)).not.toThrow();
      expect(validateTemplate(junk).valid).toBe(false);
    }
  });

  it("scans positional and named placeholders with their positions", () => {
    expect(scanPlaceholders("a {{1}} b {{first_name}}")).toEqual([
      { kind: "positional", key: "1", start: 2, end: 7 },
      { kind: "named", key: "first_name", start: 10, end: 24 },
    ]);
  });
});
