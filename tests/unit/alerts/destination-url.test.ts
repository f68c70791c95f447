import { describe, expect, it } from "vitest";
import { checkOrgDestinationUrl } from "../../../functions/_shared/alerts/destination-url.ts";

describe("organisations' alert destination URLs", () => {
  it("accepts https to a public host or address", () => {
    expect(checkOrgDestinationUrl("https://hooks.slack.com/services/T000/B000/XXXX")).toBeNull();
    expect(checkOrgDestinationUrl("https://8.8.8.8:8443/hook")).toBeNull();
    // Documentation ranges (203.0.113.0/24) are not unicast to ipaddr.js: refused with the rest.
    expect(checkOrgDestinationUrl("https://203.0.113.10/hook")).toBe("private_address");
  });

  it.each([
    ["http://hooks.example.com/x", "not_https"],
    ["https://127.0.0.1/x", "private_address"],
    ["https://10.1.2.3/x", "private_address"],
    ["https://169.254.169.254/latest/meta-data", "private_address"],
    ["https://[::1]/x", "private_address"],
    ["https://[fd00::1]/x", "private_address"],
    ["https://localhost/x", "private_address"],
    ["https://db.internal/x", "private_address"],
    ["https://2130706433/x", "private_address"],
    ["https://user:pw@hooks.example.com/x", "credentials_in_url"],
    ["not a url", "not_a_url"],
  ])("refuses %s (%s)", (url, problem) => {
    expect(checkOrgDestinationUrl(url)).toBe(problem);
  });
});
