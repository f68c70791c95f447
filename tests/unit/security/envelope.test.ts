// The integration event envelope: what is accepted, and every kind of bad input refused with 422.
import { describe, expect, it } from "vitest";
import { AppError } from "../../../functions/_shared/http/errors.ts";
import { parseEnvelope } from "../../../functions/_shared/integrations/envelope.ts";

const good = { type: "order.created", id: "evt_1", occurred_at: "2026-11-23T10:00:00Z", data: { a: [1, { b: "é" }] } };

function code(body: unknown): string {
  try {
    parseEnvelope(body);
    return "OK";
  } catch (error) {
    return (error as AppError).code;
  }
}

function nested(depth: number): unknown {
  let v: unknown = {};
  for (let i = 0; i < depth; i++) v = { a: v };
  return v;
}

describe("parseEnvelope", () => {
  it("accepts the documented envelope, with an offset timestamp too", () => {
    expect(code(good)).toBe("OK");
    expect(code({ ...good, occurred_at: "2026-11-23T10:00:00.123+05:30" })).toBe("OK");
  });

  it("refuses wrong types, missing fields and unknown fields", () => {
    for (const bad of [
      null, [], "x", 1, {},
      { ...good, type: 1 }, { ...good, type: "" }, { ...good, type: "has space" }, { ...good, type: "x".repeat(101) },
      { ...good, id: "" }, { ...good, id: "a b" }, { ...good, id: "x".repeat(201) }, { ...good, id: 7 },
      { ...good, occurred_at: "yesterday" }, { ...good, occurred_at: "2026-11-23 10:00" }, { ...good, occurred_at: "2026-11-23T10:00:00" },
      { ...good, occurred_at: "0000-01-01T00:00:00Z" }, { ...good, occurred_at: "2026-02-30T00:00:00Z" },
      { ...good, data: [] }, { ...good, data: "x" }, { ...good, data: null },
      { ...good, extra: true }, { ...good, __proto__: { x: 1 }, constructor: 1 },
    ]) {
      expect(code(bad), JSON.stringify(bad)).toBe("INVALID_EVENT");
    }
  });

  it("refuses what Postgres jsonb cannot store: NUL and lone surrogates, in values and keys", () => {
    expect(code({ ...good, data: { a: "x\u0000y" } })).toBe("INVALID_EVENT");
    expect(code({ ...good, data: { a: "\ud800" } })).toBe("INVALID_EVENT");
    expect(code({ ...good, data: { "\udc00": 1 } })).toBe("INVALID_EVENT");
    expect(code({ ...good, data: { a: "😀 \ud83d\ude00" } })).toBe("OK");
  });

  it("refuses nesting deeper than the limit without recursing", () => {
    expect(code({ ...good, data: nested(31) })).toBe("OK");
    expect(code({ ...good, data: nested(40) })).toBe("INVALID_EVENT");
    expect(code({ ...good, data: nested(100_000) })).toBe("INVALID_EVENT");
  });

  it("never quotes the input in its message", () => {
    try {
      parseEnvelope({ ...good, secret_field_name_xyz: 1, id: "<script>" });
    } catch (error) {
      expect((error as Error).message).not.toContain("secret_field_name_xyz");
      expect((error as Error).message).not.toContain("<script>");
    }
  });
});
