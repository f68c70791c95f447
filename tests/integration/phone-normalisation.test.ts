// The database (public.normalize_phone, used by triggers on stored numbers) and the webhook
// (libphonenumber-js, used on incoming numbers) must agree, or a caller would not be recognised.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { toE164 } from "../../functions/_shared/phone/e164.ts";
import { createTestDatabase, type TestDatabase } from "../support/database.ts";

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db.drop();
});

const cases: Array<[string, string]> = [
  ["+1 (416) 555-0199", "CA"],
  ["416.555.0199", "CA"],
  ["14165550199", "CA"],
  ["1-416-555-0199", "US"],
  ["(212) 555-0123", "US"],
  ["+1 212 555 0123 ext. 44", "US"],
  ["011 44 20 7946 0958", "US"],
  ["+44 (0)20 7946 0958", "US"],
  ["07911 123456", "GB"],
  ["447911123456", "GB"],
  ["+44 7911 123456", "CA"],
  ["098765 43210", "IN"],
  ["0091 9876543210", "IN"],
  ["9876543210", "IN"],
  ["+91 98765-43210", "US"],
  ["0412 345 678", "AU"],
  ["+61 412 345 678", "US"],
  ["06 12 34 56 78", "FR"],
  ["+33 6 12 34 56 78", "US"],
  ["030 1234567", "DE"],
  ["612 345 678", "ES"],
  ["+52 55 1234 5678", "US"],
  ["5550199", "CA"],
  ["12345", "IN"],
  ["anonymous", "US"],
  ["sip:alice@example.com", "US"],
  ["", "US"],
  ["+1 416 555", "CA"],
];

describe("normalize_phone (SQL) and toE164 (libphonenumber-js)", () => {
  it.each(cases)("agree on %j with default country %s", async (raw, country) => {
    const [row] = await db.sql`select public.normalize_phone(${raw}, ${country}) as e164`;
    expect(row.e164).toBe(toE164(raw, country));
  });

  it("stores clients' numbers in E.164 with the organisation's default country", async () => {
    const [org] = await db.sql`insert into public.orgs (name, default_country) values ('UK Co', 'GB') returning id`;
    const [client] = await db.sql`
      insert into public.clients (org_id, name, phone) values (${org.id}, 'Ann', '07911 123456') returning phone_e164`;
    expect(client.phone_e164).toBe("+447911123456");
  });

  it("reads stored numbers again when the organisation changes its default country", async () => {
    const [org] = await db.sql`insert into public.orgs (name, default_country) values ('Moving Co', 'US') returning id`;
    const [client] = await db.sql`
      insert into public.clients (org_id, name, phone) values (${org.id}, 'Raj', '098765 43210') returning id, phone_e164`;
    expect(client.phone_e164).toBeNull();
    await db.sql`update public.orgs set default_country = 'IN' where id = ${org.id}`;
    const [after] = await db.sql`select phone_e164 from public.clients where id = ${client.id}`;
    expect(after.phone_e164).toBe("+919876543210");
  });

  it("refuses an AI-answered number that is not a phone number", async () => {
    const [org] = await db.sql`insert into public.orgs (name) values ('Bad Co') returning id`;
    await expect(
      db.sql`insert into public.phone_numbers (org_id, phone_number) values (${org.id}, 'sip:desk@example.com')`,
    ).rejects.toMatchObject({ code: "22023" });
  });

  it("refuses the same number for two organisations, however it is written", async () => {
    const [a] = await db.sql`insert into public.orgs (name) values ('A') returning id`;
    const [b] = await db.sql`insert into public.orgs (name) values ('B') returning id`;
    await db.sql`insert into public.phone_numbers (org_id, phone_number) values (${a.id}, '+1 905 555 0111')`;
    await expect(
      db.sql`insert into public.phone_numbers (org_id, phone_number) values (${b.id}, '(905) 555-0111')`,
    ).rejects.toMatchObject({ code: "23505" });
  });
});
