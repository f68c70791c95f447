// Small measuring helpers shared by the benchmarks.

/** Milliseconds since `start`, a process.hrtime.bigint() reading. */
export const elapsedMs = (start) => Number(process.hrtime.bigint() - start) / 1e6;

/** The q-quantile (0..1) of the numbers in xs (nearest rank; xs need not be sorted). */
export function quantile(xs, q) {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

export const median = (xs) => quantile(xs, 0.5);
