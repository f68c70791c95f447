// A small Prometheus metrics registry: counters, histograms and collected gauges with labels,
// rendered in the text exposition format (version 0.0.4). Values live in the isolate; on Supabase
// every function runs in its own isolates, so counters are also flushed as deltas to Postgres
// (store.ts) and /metrics renders the sum over every isolate.
//
// Label values are bounded: a metric keeps at most MAX_SERIES_PER_METRIC label sets, and further
// ones are counted under {overflow="true"} so that a caller-controlled value cannot exhaust memory.
// Never label by tenant, id, IP or anything a caller chooses freely.

export type Labels = Record<string, string>;

export const MAX_SERIES_PER_METRIC = 500;
export const DEFAULT_DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** One counter sample: the unit in which values are flushed to and read from the shared store. */
export interface Sample {
  name: string;
  labels: Labels;
  value: number;
}

interface MetricBase {
  readonly name: string;
  readonly help: string;
  readonly type: "counter" | "histogram" | "gauge";
}

function escapeLabel(value: string): string {
  return value.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"');
}

export function formatLabels(labels: Labels): string {
  const keys = Object.keys(labels).sort();
  if (keys.length === 0) return "";
  return `{${keys.map((k) => `${k}="${escapeLabel(labels[k])}"`).join(",")}}`;
}

function formatValue(v: number): string {
  if (Number.isNaN(v)) return "NaN";
  if (v === Infinity) return "+Inf";
  if (v === -Infinity) return "-Inf";
  return String(v);
}

function seriesKey(labels: Labels): string {
  return formatLabels(labels);
}

class SeriesMap<T> {
  private readonly map = new Map<string, { labels: Labels; value: T }>();
  constructor(private readonly labelNames: readonly string[], private readonly init: () => T) {}

  get(labels: Labels): T {
    const clean: Labels = {};
    for (const name of this.labelNames) clean[name] = String(labels[name] ?? "").slice(0, 120);
    let key = seriesKey(clean);
    let entry = this.map.get(key);
    if (!entry) {
      if (this.map.size >= MAX_SERIES_PER_METRIC) {
        const overflow: Labels = { overflow: "true" };
        key = seriesKey(overflow);
        entry = this.map.get(key);
        if (!entry) {
          entry = { labels: overflow, value: this.init() };
          this.map.set(key, entry);
        }
        return entry.value;
      }
      entry = { labels: clean, value: this.init() };
      this.map.set(key, entry);
    }
    return entry.value;
  }

  entries(): { labels: Labels; value: T }[] {
    return [...this.map.values()];
  }

  clear(): void {
    this.map.clear();
  }
}

export class Counter implements MetricBase {
  readonly type = "counter" as const;
  private readonly series: SeriesMap<{ value: number }>;
  constructor(readonly name: string, readonly help: string, readonly labelNames: readonly string[] = []) {
    this.series = new SeriesMap(labelNames, () => ({ value: 0 }));
  }
  inc(labels: Labels = {}, by = 1): void {
    if (!(by >= 0) || !Number.isFinite(by)) return;
    this.series.get(labels).value += by;
  }
  get(labels: Labels = {}): number {
    return this.series.get(labels).value;
  }
  samples(): Sample[] {
    return this.series.entries().map((e) => ({ name: this.name, labels: e.labels, value: e.value.value }));
  }
  reset(): void {
    this.series.clear();
  }
}

export class Histogram implements MetricBase {
  readonly type = "histogram" as const;
  readonly buckets: readonly number[];
  private readonly series: SeriesMap<{ counts: number[]; sum: number; count: number }>;
  constructor(
    readonly name: string,
    readonly help: string,
    readonly labelNames: readonly string[] = [],
    buckets: readonly number[] = DEFAULT_DURATION_BUCKETS,
  ) {
    this.buckets = [...buckets].sort((a, b) => a - b);
    this.series = new SeriesMap(labelNames, () => ({ counts: this.buckets.map(() => 0), sum: 0, count: 0 }));
  }
  observe(labels: Labels, value: number): void {
    if (!Number.isFinite(value)) return;
    const s = this.series.get(labels);
    for (let i = 0; i < this.buckets.length; i++) if (value <= this.buckets[i]) s.counts[i]++;
    s.sum += value;
    s.count++;
  }
  /** Cumulative samples: name_bucket{le=…}, name_sum, name_count. */
  samples(): Sample[] {
    const out: Sample[] = [];
    for (const { labels, value } of this.series.entries()) {
      this.buckets.forEach((b, i) =>
        out.push({ name: `${this.name}_bucket`, labels: { ...labels, le: formatValue(b) }, value: value.counts[i] })
      );
      out.push({ name: `${this.name}_bucket`, labels: { ...labels, le: "+Inf" }, value: value.count });
      out.push({ name: `${this.name}_sum`, labels, value: value.sum });
      out.push({ name: `${this.name}_count`, labels, value: value.count });
    }
    return out;
  }
  reset(): void {
    this.series.clear();
  }
}

/** A gauge whose values are read when metrics are rendered (breaker states, ratios). */
export class CollectedGauge implements MetricBase {
  readonly type = "gauge" as const;
  constructor(readonly name: string, readonly help: string, readonly collect: () => Sample[]) {}
  samples(): Sample[] {
    return this.collect().map((s) => ({ ...s, name: this.name }));
  }
}

type Metric = Counter | Histogram | CollectedGauge;

export class MetricsRegistry {
  private readonly metrics = new Map<string, Metric>();
  /** What has already been flushed to the shared store, per sample key. */
  private readonly flushed = new Map<string, number>();

  private register<T extends Metric>(metric: T): T {
    if (!NAME.test(metric.name)) throw new Error(`Invalid metric name ${metric.name}`);
    const existing = this.metrics.get(metric.name);
    if (existing) {
      if (existing.type !== metric.type) throw new Error(`Metric ${metric.name} already registered as ${existing.type}`);
      return existing as T;
    }
    this.metrics.set(metric.name, metric);
    return metric;
  }

  counter(name: string, help: string, labelNames: readonly string[] = []): Counter {
    for (const l of labelNames) if (!LABEL.test(l)) throw new Error(`Invalid label name ${l}`);
    return this.register(new Counter(name, help, labelNames));
  }

  histogram(name: string, help: string, labelNames: readonly string[] = [], buckets?: readonly number[]): Histogram {
    for (const l of [...labelNames]) if (!LABEL.test(l) || l === "le") throw new Error(`Invalid label name ${l}`);
    return this.register(new Histogram(name, help, labelNames, buckets));
  }

  gauge(name: string, help: string, collect: () => Sample[]): CollectedGauge {
    return this.register(new CollectedGauge(name, help, collect));
  }

  /** Counter and histogram samples that changed since the last call (for the shared store). */
  drainDeltas(): Sample[] {
    const deltas: Sample[] = [];
    for (const metric of this.metrics.values()) {
      if (metric.type === "gauge") continue;
      for (const s of metric.samples()) {
        const key = `${s.name}${formatLabels(s.labels)}`;
        const delta = s.value - (this.flushed.get(key) ?? 0);
        if (delta !== 0) {
          deltas.push({ ...s, value: delta });
          this.flushed.set(key, s.value);
        }
      }
    }
    return deltas;
  }

  /** Puts deltas back after a failed flush, so that they go with the next one. */
  restoreDeltas(deltas: readonly Sample[]): void {
    for (const s of deltas) {
      const key = `${s.name}${formatLabels(s.labels)}`;
      this.flushed.set(key, (this.flushed.get(key) ?? 0) - s.value);
    }
  }

  /**
   * The exposition text. `shared` holds counter samples summed over every isolate (from the store);
   * when given, it replaces this isolate's counters and histograms, whose values it already includes.
   */
  render(shared?: readonly Sample[]): string {
    const lines: string[] = [];
    const byName = new Map<string, Sample[]>();
    if (shared) {
      for (const s of shared) {
        const list = byName.get(s.name) ?? [];
        list.push(s);
        byName.set(s.name, list);
      }
    }
    const names = [...this.metrics.keys()].sort();
    for (const name of names) {
      const metric = this.metrics.get(name)!;
      let samples: Sample[];
      if (shared && metric.type !== "gauge") {
        samples = metric.type === "histogram"
          ? [...(byName.get(`${name}_bucket`) ?? []), ...(byName.get(`${name}_sum`) ?? []), ...(byName.get(`${name}_count`) ?? [])]
          : byName.get(name) ?? [];
        if (metric.type === "histogram") samples = sortHistogramSamples(name, samples);
      } else {
        samples = metric.samples();
      }
      lines.push(`# HELP ${name} ${metric.help.replace(/\\/g, "\\\\").replace(/\n/g, "\\n")}`);
      lines.push(`# TYPE ${name} ${metric.type}`);
      for (const s of samples) lines.push(`${s.name}${formatLabels(s.labels)} ${formatValue(s.value)}`);
    }
    return lines.join("\n") + "\n";
  }

  /** For tests: forgets every value (registrations stay). */
  reset(): void {
    for (const metric of this.metrics.values()) if (metric.type !== "gauge") metric.reset();
    this.flushed.clear();
  }
}

function sortHistogramSamples(name: string, samples: Sample[]): Sample[] {
  const groups = new Map<string, Sample[]>();
  for (const s of samples) {
    const { le: _le, ...rest } = s.labels;
    const key = formatLabels(rest);
    const list = groups.get(key) ?? [];
    list.push(s);
    groups.set(key, list);
  }
  const leValue = (s: Sample) => (s.labels.le === "+Inf" ? Infinity : Number(s.labels.le));
  const order = (s: Sample) => (s.name === `${name}_bucket` ? 0 : s.name === `${name}_sum` ? 1 : 2);
  const out: Sample[] = [];
  for (const key of [...groups.keys()].sort()) {
    out.push(...groups.get(key)!.sort((a, b) => order(a) - order(b) || leValue(a) - leValue(b)));
  }
  return out;
}
