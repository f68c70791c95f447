// The Prometheus registry: exposition format, label escaping, bounded series, deltas for the store.
import { describe, expect, it } from "vitest";
import { MetricsRegistry, MAX_SERIES_PER_METRIC } from "../../../functions/_shared/observability/metrics.ts";

describe("MetricsRegistry", () => {
  it("renders counters and histograms in the text format", () => {
    const r = new MetricsRegistry();
    const c = r.counter("t_requests_total", "Requests.", ["function", "status"]);
    const h = r.histogram("t_duration_seconds", "Latency.", ["function"], [0.1, 1]);
    c.inc({ function: "integrations", status: "200" });
    c.inc({ function: "integrations", status: "200" });
    h.observe({ function: "integrations" }, 0.05);
    h.observe({ function: "integrations" }, 0.5);
    h.observe({ function: "integrations" }, 5);
    const text = r.render();
    expect(text).toContain("# TYPE t_requests_total counter");
    expect(text).toContain('t_requests_total{function="integrations",status="200"} 2');
    expect(text).toContain("# TYPE t_duration_seconds histogram");
    expect(text).toContain('t_duration_seconds_bucket{function="integrations",le="0.1"} 1');
    expect(text).toContain('t_duration_seconds_bucket{function="integrations",le="1"} 2');
    expect(text).toContain('t_duration_seconds_bucket{function="integrations",le="+Inf"} 3');
    expect(text).toContain('t_duration_seconds_count{function="integrations"} 3');
    expect(text).toContain('t_duration_seconds_sum{function="integrations"} 5.55');
    expect(text.endsWith("\n")).toBe(true);
  });

  it("escapes label values and bounds the number of series", () => {
    const r = new MetricsRegistry();
    const c = r.counter("t_total", "T.", ["v"]);
    c.inc({ v: 'a"b\\c\nd' });
    expect(r.render()).toContain('t_total{v="a\\"b\\\\c\\nd"} 1');
    for (let i = 0; i < MAX_SERIES_PER_METRIC + 50; i++) c.inc({ v: `x${i}` });
    const lines = r.render().split("\n").filter((l) => l.startsWith("t_total"));
    expect(lines.length).toBe(MAX_SERIES_PER_METRIC + 1);
    expect(lines.some((l) => l.startsWith('t_total{overflow="true"}'))).toBe(true);
  });

  it("drains only what changed since the last drain, and puts a failed flush back", () => {
    const r = new MetricsRegistry();
    const c = r.counter("t_total", "T.", ["k"]);
    c.inc({ k: "a" }, 3);
    expect(r.drainDeltas()).toEqual([{ name: "t_total", labels: { k: "a" }, value: 3 }]);
    expect(r.drainDeltas()).toEqual([]);
    c.inc({ k: "a" }, 2);
    const d = r.drainDeltas();
    expect(d).toEqual([{ name: "t_total", labels: { k: "a" }, value: 2 }]);
    r.restoreDeltas(d);
    expect(r.drainDeltas()).toEqual([{ name: "t_total", labels: { k: "a" }, value: 2 }]);
  });

  it("renders shared samples in place of its own counters", () => {
    const r = new MetricsRegistry();
    r.counter("t_total", "T.", ["k"]).inc({ k: "a" });
    const text = r.render([{ name: "t_total", labels: { k: "a" }, value: 42 }]);
    expect(text).toContain('t_total{k="a"} 42');
  });

  it("refuses invalid names and re-registration under another type", () => {
    const r = new MetricsRegistry();
    expect(() => r.counter("bad-name", "x")).toThrow();
    r.counter("same", "x");
    expect(() => r.histogram("same", "x")).toThrow();
    expect(r.counter("same", "x")).toBe(r.counter("same", "y"));
  });
});
