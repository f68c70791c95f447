// The Prometheus alerting rules (prometheus/switchboard-alerts.yml) must stay valid and must only
// read metrics that /metrics exports: promtool (Debian's `prometheus` package; .ci/run installs it)
// checks the syntax and runs the rule unit tests, and every metric name in an expression must be
// one the registry or the database gauges render. Without promtool the suite is skipped with a
// warning, except under CI=true, where that is a failure.
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { renderDatabaseGauges } from "../../functions/_shared/observability/db-gauges.ts";
import { metrics } from "../../functions/_shared/observability/index.ts";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const rulesFile = path.join(root, "prometheus/switchboard-alerts.yml");
const promtool = spawnSync("promtool", ["--version"], { encoding: "utf8" });
const missing = promtool.error ? "promtool is not installed (apt-get install prometheus)" : null;
if (missing && process.env.CI === "true") throw new Error(`prometheus-rules: ${missing}`);
if (missing) console.warn(`prometheus-rules: promtool checks skipped: ${missing}`);

describe.skipIf(missing !== null)("Prometheus alerting rules under promtool", () => {
  it("passes promtool check rules", () => {
    const run = spawnSync("promtool", ["check", "rules", rulesFile], { encoding: "utf8" });
    expect(run.stdout + run.stderr).toContain("SUCCESS: 9 rules found");
    expect(run.status).toBe(0);
  });

  it("passes its unit tests (fires on an error burst, not on a forged flood; breakers after 2 minutes)", () => {
    const run = spawnSync("promtool", ["test", "rules", "switchboard-alerts.test.yml"], {
      cwd: path.join(root, "prometheus"),
      encoding: "utf8",
    });
    expect(run.stdout + run.stderr).toContain("SUCCESS");
    expect(run.status).toBe(0);
  });
});

describe("metrics the Prometheus rules read", () => {
  it("are all exported by /metrics (the registry or the database gauges)", () => {
    const exported = new Set<string>();
    const text = metrics.render() +
      renderDatabaseGauges([
        "switchboard_alert_incidents_firing",
        "switchboard_circuit_breaker_reported_open",
        "switchboard_cron_job_last_run_failed",
        "switchboard_outbox_oldest_undelivered_seconds",
        "switchboard_customers_waiting_longest_seconds",
        "switchboard_llm_org_calls_today",
        "switchboard_llm_org_errors_today",
        "switchboard_llm_org_tokens_today",
      ].map((name) => ({ name, labels: {}, value: 0 })));
    for (const m of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
      exported.add(m[1]);
      if (m[2] === "histogram") for (const s of ["_sum", "_count", "_bucket"]) exported.add(m[1] + s);
    }
    const used = new Set(readFileSync(rulesFile, "utf8").match(/\bswitchboard_[a-z_]+/g));
    expect(used.size).toBeGreaterThanOrEqual(10);
    expect([...used].filter((name) => !exported.has(name))).toEqual([]);
  });
});
