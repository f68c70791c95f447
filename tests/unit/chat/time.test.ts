// Reading callback times: the customer's IANA zone (never the host's), daylight-saving changes, past
// times and times without a day.
import { describe, expect, it } from "vitest";
import { parseRequestedTime, toLocalIso } from "../../../functions/_shared/chat/callback/time.ts";

const at = (iso: string) => new Date(iso);

describe("parseRequestedTime", () => {
  it("reads 'tomorrow at 2pm' in the customer's zone, not the host's", () => {
    const r = parseRequestedTime("tomorrow at 2pm", { now: at("2026-11-30T20:00:00Z"), timeZone: "Asia/Kolkata" });
    expect(r).toMatchObject({ kind: "ok", local: "2026-12-02T14:00:00+05:30" });
  });

  it("uses tomorrow's offset across the spring-forward night (Toronto, 8 March 2026)", () => {
    const r = parseRequestedTime("tomorrow at 2pm", { now: at("2026-03-07T20:00:00Z"), timeZone: "America/Toronto" });
    expect(r.kind).toBe("ok");
    if (r.kind === "ok") expect(r.instant.toISOString()).toBe("2026-03-08T18:00:00.000Z");
  });

  it("uses the right offset across the fall-back night (London, 25 October 2026)", () => {
    const r = parseRequestedTime("tomorrow at 9am", { now: at("2026-10-24T12:00:00Z"), timeZone: "Europe/London" });
    expect(r).toMatchObject({ kind: "ok", local: "2026-10-25T09:00:00+00:00" });
  });

  it("moves a wall time inside the spring-forward gap to the hour after", () => {
    const r = parseRequestedTime("March 8 at 2:30am", { now: at("2026-03-01T12:00:00Z"), timeZone: "America/Toronto" });
    expect(r).toMatchObject({ kind: "ok", local: "2026-03-08T03:30:00-04:00" });
  });

  it("calls '11:45pm today' asked at 11:50pm a time in the past", () => {
    const r = parseRequestedTime("11:45pm today", { now: at("2026-11-30T23:50:00-05:00"), timeZone: "America/Toronto" });
    expect(r.kind).toBe("past");
  });

  it("accepts '11:45pm today' asked at 11:40pm", () => {
    const r = parseRequestedTime("11:45pm today", { now: at("2026-11-30T23:40:00-05:00"), timeZone: "America/Toronto" });
    expect(r).toMatchObject({ kind: "ok", local: "2026-11-30T23:45:00-05:00" });
  });

  it("reads a bare 'at 2' as 2 p.m. today, or tomorrow once it has passed", () => {
    expect(parseRequestedTime("at 2", { now: at("2026-11-30T12:00:00Z"), timeZone: "America/Toronto" }))
      .toMatchObject({ kind: "ok", local: "2026-11-30T14:00:00-05:00" });
    expect(parseRequestedTime("at 2", { now: at("2026-11-30T21:00:00Z"), timeZone: "America/Toronto" }))
      .toMatchObject({ kind: "ok", local: "2026-12-01T14:00:00-05:00" });
  });

  it("reads a weekday that is today but past as next week", () => {
    const r = parseRequestedTime("monday at 10am", { now: at("2026-11-30T17:00:00Z"), timeZone: "America/Toronto" });
    expect(r).toMatchObject({ kind: "ok", local: "2026-12-07T10:00:00-05:00" });
  });

  it("keeps a zone the customer names", () => {
    const r = parseRequestedTime("tomorrow 2pm EST", { now: at("2026-11-30T12:00:00Z"), timeZone: "Asia/Kolkata" });
    expect(r.kind).toBe("ok");
    if (r.kind === "ok") expect(r.instant.toISOString()).toBe("2026-12-01T19:00:00.000Z");
  });

  it("asks for a time when only a day is given, and finds nothing in text without one", () => {
    expect(parseRequestedTime("tomorrow", { now: at("2026-11-30T12:00:00Z"), timeZone: "America/Toronto" }).kind).toBe("date_only");
    expect(parseRequestedTime("whenever you like", { now: at("2026-11-30T12:00:00Z"), timeZone: "America/Toronto" }).kind).toBe("none");
  });

  it("never throws on hostile input", () => {
    for (const text of ["", " ", "\u0000", "9".repeat(10_000), "at 99:99pm on 45/45", "🙂🙂 tomorrow 🙂 at ⏰", "((((((((((((a"]) {
      expect(() => parseRequestedTime(text, { now: at("2026-11-30T12:00:00Z"), timeZone: "America/Toronto" })).not.toThrow();
    }
  });
});

describe("toLocalIso", () => {
  it("writes the instant in the zone with its offset", () => {
    expect(toLocalIso(at("2026-07-01T18:00:00Z"), "America/Toronto")).toBe("2026-07-01T14:00:00-04:00");
  });
});
