// Work the caller need not wait for. On Supabase, EdgeRuntime.waitUntil keeps the isolate alive until
// the promise settles; elsewhere (local Deno server, Node tests) this module tracks the promises so
// that a server can drain them and a test can wait for them with settleBackground().
import type { Logger } from "../log/logger.ts";

declare const EdgeRuntime: { waitUntil(promise: Promise<unknown>): void } | undefined;

const pending = new Set<Promise<unknown>>();

export function runInBackground(task: () => Promise<unknown>, logger?: Logger): void {
  const promise = Promise.resolve()
    .then(task)
    .catch((error) => logger?.error("background task failed", { error }))
    .finally(() => pending.delete(promise));
  pending.add(promise);
  if (typeof EdgeRuntime !== "undefined" && EdgeRuntime?.waitUntil) {
    EdgeRuntime.waitUntil(promise);
  }
}

/** Resolves when every background task started so far (and any they start) has settled. */
export async function settleBackground(): Promise<void> {
  while (pending.size > 0) {
    await Promise.allSettled([...pending]);
  }
}
