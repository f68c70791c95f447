import { describe, expect, it } from "vitest";
import type { CallerContext, NumberConfig } from "../../../functions/_shared/telnyx/repository.ts";
import { buildVariables, FALLBACK_GREETING } from "../../../functions/_shared/telnyx/variables.ts";

// Monday 2026-11-23 15:00 in Toronto (EST, UTC-5).
const now = new Date("2026-11-23T20:00:00Z");

const number: NumberConfig = {
  phone_number_id: "p1",
  org_id: "o1",
  enabled: true,
  org: { name: "Pinecrest", timezone: "America/Toronto", currency: "CAD", locale: "en-CA", default_country: "CA" },
  config: {
    company_name: "Pinecrest Home Services",
    agent_name: "Nova",
    greeting_message: "Hi {{customer_first_name}}, thanks for calling {{company_name}}. {{unknown_thing}}",
    instructions: "Balance {{outstanding_balance}}; fee {{diagnostic_fee}}; {{telnyx_current_time}}",
    timezone: null,
    business_hours: { mon: [["08:00", "18:00"]] },
    default_variables: {
      diagnostic_fee: "$89",
      service_area: "Serving {{company_name}} customers in the GTA",
      visits_per_year: 2,
      telnyx_sneaky: "reserved",
      "Bad Name": "x",
      nested: { a: 1 },
      company_name: "should not override",
    },
  },
};

const jane: CallerContext = {
  matches: 1,
  client: {
    id: "c1",
    name: "  Jane  Cooper ",
    email: null,
    job_count: 3,
    last_job: { services: ["Furnace repair", "Filter"], date: "2026-10-14T15:00:00Z" },
    next_job: { services: "Water heater inspection", date: "2026-11-29T14:30:00Z" },
    balance: 215,
  },
};

function assertWellFormed(vars: Record<string, string>) {
  for (const [name, value] of Object.entries(vars)) {
    expect(typeof value, name).toBe("string");
    expect(value, name).not.toMatch(/\{\{|\}\}/);
    expect(name.startsWith("telnyx_"), name).toBe(false);
  }
}

describe("buildVariables", () => {
  it("personalises everything for a known caller, in the org's zone and currency", () => {
    const vars = buildVariables({ now, number, caller: jane, status: "found" });
    assertWellFormed(vars);
    expect(vars).toMatchObject({
      customer_name: "Jane  Cooper",
      customer_first_name: "Jane",
      is_existing_customer: "true",
      customer_job_count: "3",
      last_service: "Furnace repair, Filter",
      last_service_date: "October 14, 2026",
      next_job: "Water heater inspection",
      outstanding_balance: "$215.00",
      has_outstanding_balance: "true",
      business_open_now: "true",
      business_status: "open",
      timezone: "America/Toronto",
      lookup_status: "found",
      company_name: "Pinecrest Home Services",
      diagnostic_fee: "$89",
      visits_per_year: "2",
    });
    expect(vars.next_job_date).toMatch(/Sunday, November 29.*9:30/);
    expect(vars.current_time).toMatch(/3:00/);
    expect(vars.greeting).toBe("Hi Jane, thanks for calling Pinecrest Home Services.");
    expect(vars.instructions).toBe("Balance $215.00; fee $89;");
    expect(vars.service_area).toBe("Serving Pinecrest Home Services customers in the GTA");
  });

  it("drops business variables with reserved, malformed or non-text names and values", () => {
    const vars = buildVariables({ now, number, caller: jane, status: "found" });
    expect(vars).not.toHaveProperty("telnyx_sneaky");
    expect(vars).not.toHaveProperty("Bad Name");
    expect(vars).not.toHaveProperty("nested");
  });

  it("gives no name and no balance for an ambiguous caller, and says so", () => {
    const vars = buildVariables({ now, number, caller: { matches: 2 }, status: "ambiguous" });
    assertWellFormed(vars);
    expect(vars).toMatchObject({
      customer_name: "",
      outstanding_balance: "",
      is_existing_customer: "false",
      lookup_status: "ambiguous",
      caller_ambiguous: "true",
    });
    expect(vars.greeting).toBe("Hi, thanks for calling Pinecrest Home Services.");
  });

  it("falls back to the defaults for an unknown number", () => {
    const vars = buildVariables({ now, number: null, caller: null, status: "not_found" });
    assertWellFormed(vars);
    expect(vars.greeting).toBe(FALLBACK_GREETING);
    expect(vars).toMatchObject({ company_name: "", dispatcher_configured: "false", timezone: "UTC" });
  });

  it("uses the defaults, not the config, for a number whose dispatcher is disabled", () => {
    const vars = buildVariables({ now, number: { ...number, enabled: false }, caller: null, status: "not_found" });
    expect(vars.greeting).toBe(FALLBACK_GREETING);
    expect(vars.company_name).toBe("");
    expect(vars).not.toHaveProperty("diagnostic_fee");
  });

  it("keeps the configuration but no caller details on timeout", () => {
    const vars = buildVariables({ now, number, caller: null, status: "timeout" });
    assertWellFormed(vars);
    expect(vars).toMatchObject({ company_name: "Pinecrest Home Services", customer_name: "", lookup_status: "timeout" });
  });

  it("survives a bad timezone, locale and currency in the configuration", () => {
    const broken: NumberConfig = {
      ...number,
      org: { ...number.org, timezone: "Mars/Olympus", locale: "!!", currency: "XXXX" },
    };
    const vars = buildVariables({ now, number: broken, caller: jane, status: "found" });
    assertWellFormed(vars);
    expect(vars.timezone).toBe("UTC");
    expect(vars.outstanding_balance).toBe("$215.00");
  });
});
