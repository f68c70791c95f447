// Waits for a promise up to a time budget. The work is not cancelled (postgres.js cannot abort a
// query); its late result or error is ignored, and the caller answers with what it has.

export type DeadlineOutcome<T> =
  | { kind: "done"; value: T }
  | { kind: "failed"; error: unknown }
  | { kind: "timeout" };

export function withinBudget<T>(work: Promise<T>, budgetMs: number): Promise<DeadlineOutcome<T>> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<DeadlineOutcome<T>>((resolve) => {
    timer = setTimeout(() => resolve({ kind: "timeout" }), Math.max(0, budgetMs));
  });
  const settled = work.then(
    (value): DeadlineOutcome<T> => ({ kind: "done", value }),
    (error): DeadlineOutcome<T> => ({ kind: "failed", error }),
  );
  return Promise.race([settled, timeout]).finally(() => clearTimeout(timer));
}
