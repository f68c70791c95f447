import { describe, expect, it } from "vitest";
import { describeDay, isOpenAt, localTime } from "../../../functions/_shared/time/business-hours.ts";

const hours = { mon: [["08:00", "18:00"]], fri: [["22:00", "02:00"]], sat: [] };

describe("localTime", () => {
  it("reads weekday and time in the organisation's zone, not the server's", () => {
    // 2026-11-23T03:30Z is Sunday 22:30 in Toronto and Monday 09:00 in Kolkata.
    const instant = new Date("2026-11-23T03:30:00Z");
    expect(localTime(instant, "America/Toronto")).toEqual({ weekday: "sun", minutes: 22 * 60 + 30 });
    expect(localTime(instant, "Asia/Kolkata")).toEqual({ weekday: "mon", minutes: 9 * 60 });
  });

  it("follows daylight saving time", () => {
    // 12:30Z is 08:30 EDT on 2026-07-06 (a Monday) but 07:30 EST on 2026-11-23 (a Monday).
    expect(isOpenAt(hours, localTime(new Date("2026-07-06T12:30:00Z"), "America/Toronto"))).toBe(true);
    expect(isOpenAt(hours, localTime(new Date("2026-11-23T12:30:00Z"), "America/Toronto"))).toBe(false);
  });
});

describe("isOpenAt", () => {
  it("is open from the start minute and closed at the end minute", () => {
    expect(isOpenAt(hours, { weekday: "mon", minutes: 8 * 60 })).toBe(true);
    expect(isOpenAt(hours, { weekday: "mon", minutes: 18 * 60 - 1 })).toBe(true);
    expect(isOpenAt(hours, { weekday: "mon", minutes: 18 * 60 })).toBe(false);
    expect(isOpenAt(hours, { weekday: "mon", minutes: 7 * 60 + 59 })).toBe(false);
  });

  it("keeps an overnight range open past midnight into the next day", () => {
    expect(isOpenAt(hours, { weekday: "fri", minutes: 23 * 60 })).toBe(true);
    expect(isOpenAt(hours, { weekday: "sat", minutes: 60 })).toBe(true);
    expect(isOpenAt(hours, { weekday: "sat", minutes: 2 * 60 })).toBe(false);
  });

  it("treats missing days and malformed ranges as closed", () => {
    expect(isOpenAt(hours, { weekday: "sun", minutes: 12 * 60 })).toBe(false);
    expect(isOpenAt({ mon: [["8am", "6pm"]], tue: "all day" }, { weekday: "mon", minutes: 600 })).toBe(false);
    expect(isOpenAt(null, { weekday: "mon", minutes: 600 })).toBe(false);
  });
});

describe("describeDay", () => {
  it("says closed for a day without hours and lists ranges otherwise", () => {
    expect(describeDay(hours, "sun", "en-US")).toBe("closed");
    expect(describeDay(hours, "mon", "en-US")).toBe("8:00 AM–6:00 PM");
  });
});
