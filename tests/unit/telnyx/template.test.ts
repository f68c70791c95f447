import { describe, expect, it } from "vitest";
import { renderTemplate } from "../../../functions/_shared/template.ts";

describe("renderTemplate", () => {
  it("fills known placeholders, with or without spaces inside the braces", () => {
    expect(renderTemplate("Hi {{name}} from {{ company }}", { name: "Jane", company: "Pinecrest" })).toBe(
      "Hi Jane from Pinecrest",
    );
  });

  it("leaves no placeholder behind, known or not, and no stray braces", () => {
    expect(renderTemplate("A {{missing}} B {{telnyx_current_time}} C {{ broken", {})).toBe("A B C broken");
  });

  it("tidies the space an empty value leaves before punctuation", () => {
    expect(renderTemplate("Hi {{first}}, welcome", { first: "" })).toBe("Hi, welcome");
  });

  it("does not expand placeholders that appear inside values", () => {
    expect(renderTemplate("{{a}}", { a: "{{b}}", b: "x" })).toBe("b");
  });
});
